use pgrls::Table;

#[derive(Table)]
pub struct Todo(i64, String);

fn main() {}
