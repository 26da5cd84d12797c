use pgrls::Table;

#[derive(Table)]
#[primary_key(project_id)]
#[primary_key(user_id)]
pub struct Membership {
    pub project_id: i64,
    pub user_id: String,
}

fn main() {}
