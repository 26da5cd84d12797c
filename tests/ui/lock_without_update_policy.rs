use pgrls::{Model, Table};

/// Read-only for its users: a restrictive policy narrows, it gives no UPDATE.
#[derive(Table)]
#[table(name = "reports")]
#[crud_policy(role = authenticated, read = true)]
#[policy(name = "own rows only", as = restrictive, for = all, to = authenticated, using = true)]
pub struct Report {
    #[column(primary_key)]
    pub id: i64,
    pub done: bool,
}

fn main() {
    // PostgreSQL locks a row only for a role with UPDATE, under the UPDATE policies: no role here.
    let _ = Report::select()
        .filter(Report::done.eq(false))
        .for_update()
        .skip_locked()
        .to_sql();
    // Every strength, FOR KEY SHARE included.
    let _ = Report::select().for_key_share().to_sql();
    // Reading without the lock is fine.
    let _ = Report::select().filter(Report::done.eq(false)).to_sql();
}
