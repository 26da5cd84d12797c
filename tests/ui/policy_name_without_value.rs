use pgrls::Table;

#[derive(Table)]
#[policy(name, for = select, to = authenticated, using = true)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
