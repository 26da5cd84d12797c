use pgrls::Table;

// A misspelt key in one attribute does not hide the missing `role` of another, nor the
// missing primary key (no #[column] or #[primary_key] attribute has an error).
#[derive(Table)]
#[table(nme = "todos")]
#[crud_policy(read = auth_uid(user_id))]
pub struct Todo {
    pub id: i64,
    pub user_id: String,
}

fn main() {}
