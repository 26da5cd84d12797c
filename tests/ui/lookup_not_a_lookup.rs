use pgrls::Table;

#[derive(Table)]
#[primary_key(org_id, user_id)]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
}

#[derive(Table)]
#[policy(name = "members", for = select, to = authenticated, using = org_id.is_in(Member::org_id))]
#[policy(name = "others", for = select, to = authenticated, using = org_id.is_in(Member::my_orgs))]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
}

fn main() {}
