use pgrls::Table;

#[derive(Table)]
pub struct Membership {
    #[column(primary_key)]
    pub project_id: i64,
    #[column(primary_key)]
    pub user_id: String,
}

fn main() {}
