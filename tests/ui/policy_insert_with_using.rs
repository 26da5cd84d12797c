use pgrls::Table;

#[derive(Table)]
#[policy(name = "owners insert", for = insert, to = authenticated, using = auth_uid(user_id))]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
