use pgrls::Table;

#[derive(Table)]
pub struct Todo<T> {
    #[column(primary_key)]
    pub id: i64,
    pub payload: T,
}

fn main() {}
