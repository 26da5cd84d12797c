use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    #[column(primary_key, identity)]
    pub id: String,
    pub task: String,
}

fn main() {}
