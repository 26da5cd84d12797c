use pgrls::Table;

#[derive(Table)]
#[primary_key(org_id, user_id)]
#[lookup(name = "all_orgs", select = org_id, filter = role == "admin")]
#[lookup(name = "user_id", select = org_id, filter = user_id == auth_user_id())]
#[lookup(name = "my-orgs", select = org_id, filter = user_id == auth_user_id())]
#[lookup(name = "raw", select = org_id, filter = sql("user_id = current_user"))]
#[lookup(name = "nested", select = org_id, filter = org_id.is_in(Other::id.filter(Other::owner == auth_user_id())))]
#[lookup(name = "incomplete", select = org_idd)]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
    pub role: String,
}

#[derive(Table)]
pub struct Other {
    #[column(primary_key)]
    pub id: String,
    pub owner: String,
}

fn main() {}
