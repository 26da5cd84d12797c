use pgrls::Table;

#[derive(Table)]
#[table(name = "todos", force_rls = true)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
