use pgrls::Table;

#[derive(Table)]
#[policy(name = "small", for = select, to = authenticated, using = size + 1 < 10)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub size: i32,
}

fn main() {}
