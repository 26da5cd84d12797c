use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    #[column(default = 1, default = 2)]
    pub priority: i32,
    #[column(rename = "title")]
    #[column(rename = "name")]
    pub task: String,
}

fn main() {}
