use pgrls::Table;

#[derive(Table)]
#[crud_policy(role = authenticated)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
