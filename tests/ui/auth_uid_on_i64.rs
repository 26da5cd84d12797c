use pgrls::Table;

// The user id is text or a uuid: comparing it with an integer column is refused where it is
// written, in a policy and in a default.
#[derive(Table)]
#[crud_policy(role = authenticated, read = auth_uid(owner_id))]
#[policy(name = "owners write", for = update, to = authenticated, using = owner_id == auth_user_id())]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub owner_id: i64,
    #[column(default = auth_user_id())]
    pub created_by: i32,
}

fn main() {}
