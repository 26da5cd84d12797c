use pgrls::Table;

#[derive(Table)]
#[table(name = "todos")]
#[table(name = "tasks", force_rls, force_rls)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
