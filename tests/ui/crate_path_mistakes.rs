use pgrls::{PgEnum, Table};

// `crate` takes the path of the renamed dependency as a string.
#[derive(Table)]
#[table(crate = db)]
pub struct Note {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Table)]
#[table(crate = "not a path")]
pub struct Tag {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(PgEnum)]
#[pg_enum(crate = "pgrls", crate = "pgrls")]
pub enum Status {
    Open,
}

fn main() {}
