use pgrls::Table;

#[derive(Table)]
#[policy(name = "owners read", for = select, to = authenticated, using = ownr_id == auth_user_id())]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub owner_id: String,
}

fn main() {}
