use pgrls::Table;

#[derive(Table)]
#[primary_key(org_id, user_id)]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
}

#[derive(Table)]
#[policy(
    name = "members read projects",
    for = select,
    to = authenticated,
    using = org_id.is_in(Member::org_id.filter(Member::user_id == owner_id))
)]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
    pub owner_id: String,
}

fn main() {}
