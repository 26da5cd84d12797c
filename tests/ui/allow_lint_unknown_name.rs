use pgrls::Table;

#[derive(Table)]
#[table(enable_rls)]
#[allow_lint(rls_enabled_no_polcy, reason = "private")]
pub struct Secret {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Table)]
#[table(enable_rls)]
#[allow_lint(rls-enabled-no-policy, reason = "private")]
pub struct Vault {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
