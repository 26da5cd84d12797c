use pgrls::Table;

#[derive(Table)]
#[table(enable_rls)]
#[allow_lint(rls_enabled_no_policy)]
pub struct Secret {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Table)]
#[table(enable_rls)]
#[allow_lint(rls_enabled_no_policy, reason = " ")]
pub struct Vault {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
