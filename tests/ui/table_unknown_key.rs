use pgrls::Table;

#[derive(Table)]
#[table(nme = "todos")]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub task: String,
}

fn main() {}
