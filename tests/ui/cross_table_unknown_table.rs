use pgrls::Table;

#[derive(Table)]
#[policy(
    name = "members read projects",
    for = select,
    to = authenticated,
    using = org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id()))
)]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
}

fn main() {}
