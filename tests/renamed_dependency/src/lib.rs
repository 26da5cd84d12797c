//! A crate whose Cargo.toml says `db = { package = "pgrls", ... }`: its derives name the crate
//! with `crate = "db"`, and nothing here may mention `pgrls`.

use db::{PgEnum, Table};

/// A PostgreSQL enum, found through the renamed crate.
#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[pg_enum(crate = "db")]
pub enum Status {
    /// Not done yet.
    Open,
    /// Done.
    Done,
}

/// A table with a policy, a foreign key and an enum column.
#[derive(Table, Debug)]
#[table(crate = "db", name = "notes")]
#[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
pub struct Note {
    /// The key.
    #[column(primary_key, identity)]
    pub id: i64,
    /// The owner.
    #[column(default = auth_user_id())]
    pub user_id: String,
    /// Where the note stands.
    pub status: Status,
    /// The note it answers.
    #[column(references = Note::id)]
    pub parent_id: Option<i64>,
}

/// The schema, as an application lists it.
pub const SCHEMA: db::Schema = db::Schema::new(&[Note::TABLE]);

#[cfg(test)]
mod tests {
    #[test]
    fn the_renamed_crate_builds_the_schema() {
        let sql = db::migrations::migration(&super::SCHEMA.into()).expect("a valid schema");
        assert!(sql.contains(r#"CREATE TABLE "public"."notes""#), "{sql}");
        assert!(
            sql.contains(r#"CREATE TYPE "public"."status" AS ENUM ('open', 'done')"#),
            "{sql}"
        );
        // The query builders and handles are reached through the renamed crate too.
        use db::Model;
        let _open = super::Note::select().filter(super::Note::status.eq(super::Status::Open));
    }
}
