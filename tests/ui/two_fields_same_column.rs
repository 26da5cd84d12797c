use pgrls::Table;

#[derive(Table)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    #[column(rename = "id")]
    pub legacy_id: i64,
}

fn main() {}
