use pgrls::Table;

#[derive(Table)]
pub struct Task {
    #[column(primary_key)]
    pub id: i64,
    #[column(on_delete = cascade)]
    pub project_id: i64,
}

fn main() {}
