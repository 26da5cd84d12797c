use pgrls::Table;

#[derive(Table)]
#[table(schema = "storage", name = "objects", existing = true)]
pub struct StorageObject {
    pub id: String,
}

fn main() {}
