// The dependency is `pgrls`, but the struct says it is named `db`.
#[derive(pgrls::Table)]
#[table(crate = "db")]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
