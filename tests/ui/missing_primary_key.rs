use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    pub id: i64,
    pub task: String,
}

fn main() {}
