use pgrls::Table;

#[derive(Table)]
pub struct Server {
    #[column(primary_key)]
    pub id: i64,
    pub path: std::path::PathBuf,
}

fn main() {}
