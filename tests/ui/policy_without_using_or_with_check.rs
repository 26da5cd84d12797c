use pgrls::Table;

#[derive(Table)]
#[policy(name = "owners update", for = update, to = authenticated)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
