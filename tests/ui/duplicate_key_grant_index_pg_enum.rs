use pgrls::{PgEnum, Table};

#[derive(Table)]
#[grant(to = authenticated, privileges = [select], privileges = [all])]
#[index(columns = [task], unique, unique)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub task: String,
}

#[derive(PgEnum)]
#[pg_enum(name = "status", name = "state")]
pub enum Status {
    #[pg_enum(rename = "open", rename = "opened")]
    Open,
}

fn main() {}
