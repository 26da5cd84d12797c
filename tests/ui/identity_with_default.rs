use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    #[column(primary_key, identity, default = 1)]
    pub id: i64,
    pub task: String,
}

fn main() {}
