use pgrls::Table;

#[derive(Table)]
#[table(name = "users", schema = "auth", existing)]
pub struct AuthUser {
    #[column(primary_key)]
    pub id: String,
}

// An existing table: the migrations would have to make each of these on it.
#[derive(Table)]
#[table(schema = "storage", name = "objects", existing, renamed_from = "files")]
#[index(columns = [name])]
#[check(size >= 0)]
pub struct StorageObject {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "avatars")]
    pub bucket_id: String,
    #[column(index)]
    pub name: String,
    #[column(references = AuthUser::id)]
    pub owner_id: String,
    pub size: i64,
}

fn main() {}
