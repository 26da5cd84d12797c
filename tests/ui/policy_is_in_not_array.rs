use pgrls::Table;

#[derive(Table)]
#[policy(name = "open", for = select, to = authenticated, using = status.is_in("open"))]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() {}
