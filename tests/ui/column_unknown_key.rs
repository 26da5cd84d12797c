use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    #[column(primary_kye)]
    pub id: i64,
    pub task: String,
}

fn main() {}
