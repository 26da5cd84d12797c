use pgrls::Table;

#[derive(Table)]
pub struct Task {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Projct::id)]
    pub project_id: i64,
}

fn main() {}
