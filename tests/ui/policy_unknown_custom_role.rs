use pgrls::Table;

pub const EDITOR: pgrls::Role = pgrls::Role::create("editor");

#[derive(Table)]
#[policy(name = "editors read", for = select, to = EDITR, using = true)]
pub struct Todo {
    #[column(primary_key)]
    pub id: i64,
    pub user_id: String,
}

fn main() {}
