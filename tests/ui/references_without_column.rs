use pgrls::Table;

#[derive(Table)]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Table)]
pub struct Task {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Project)]
    pub project_id: i64,
}

fn main() {}
