use pgrls::Table;

#[derive(Table)]
#[primary_key(project_id, user_id)]
pub struct Membership {
    #[column(primary_key)]
    pub project_id: i64,
    pub user_id: String,
}

fn main() {}
