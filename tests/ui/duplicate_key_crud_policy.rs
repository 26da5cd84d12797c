use pgrls::Table;

#[derive(Table)]
#[crud_policy(role = authenticated, read = auth_uid(user_id), read = true)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
