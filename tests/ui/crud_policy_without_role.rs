use pgrls::Table;

#[derive(Table)]
#[crud_policy(read = auth_uid(user_id), modify = auth_uid(user_id))]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
