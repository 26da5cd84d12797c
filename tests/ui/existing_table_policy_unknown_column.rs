use pgrls::Table;

// The fields of an existing table declare the columns its policies read, checked like any
// other table's.
#[derive(Table)]
#[table(schema = "storage", name = "objects", existing)]
#[policy(name = "owners read", for = select, to = authenticated, using = auth_uid(owner))]
pub struct StorageObject {
    pub id: String,
    pub owner_id: Option<String>,
}

fn main() {}
