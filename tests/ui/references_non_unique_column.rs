use pgrls::Table;

#[derive(Table)]
pub struct Project {
    #[column(primary_key)]
    pub id: i64,
    pub code: String,
}

#[derive(Table)]
pub struct Task {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Project::code)]
    pub project_code: String,
}

fn main() {}
