use pgrls::{Model, Table};
use todos_example::Todo;

#[derive(Table)]
#[table(name = "notes")]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {
    let _ = Todo::delete().filter(Todo::id.eq(1).and(Note::id.eq(2)));
}
