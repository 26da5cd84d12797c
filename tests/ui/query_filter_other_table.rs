use pgrls::{Model, Table};
use todos_example::Todo;

#[derive(Table)]
#[table(name = "notes")]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
    pub body: String,
}

fn main() {
    let _ = Todo::select().filter(Note::body.eq("x"));
}
