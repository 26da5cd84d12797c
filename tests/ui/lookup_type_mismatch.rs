use pgrls::Table;

#[derive(Table)]
#[primary_key(org_id, user_id)]
#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
}

#[derive(Table)]
#[policy(name = "members", for = select, to = authenticated, using = org_id.is_in(Member::my_org_ids))]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: uuid::Uuid,
}

fn main() {}
