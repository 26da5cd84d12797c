//! The first migration, assembled above the layers it uses, in their order: planned from
//! nothing by `diff::initial` (which lowers the model onto its auth provider and runs `check`
//! on it first), then rendered by `sql`. Nothing below calls back up here.

use crate::check::SchemaError;
use crate::model::SchemaDef;

/// The full first migration for `schema`: everything from an empty database, in dependency
/// order (the changes of [`crate::diff::initial`]), under section headings. Refuses a schema
/// that `check` finds fault with.
pub fn migration(schema: &SchemaDef) -> Result<String, Vec<SchemaError>> {
    let plan = crate::diff::initial(schema)?;
    Ok(crate::sql::first_migration(schema.auth, &plan))
}

#[cfg(test)]
mod tests {
    use super::migration;
    use crate::diff::{diff, initial};
    use crate::model::provider::tests::schema;
    use crate::model::{Auth, SchemaDef};

    /// Elsewhere the user id is text: comparing it with a uuid column is refused, by the first
    /// migration and by the diff alike (`check::check_provider`).
    #[test]
    fn a_uuid_user_column_is_refused_outside_supabase() {
        for auth in [Auth::Postgres, Auth::Neon] {
            let s = SchemaDef { auth, ..schema() };
            assert!(migration(&s).is_err());
            assert!(initial(&s).is_err());
            let empty = SchemaDef::empty(auth);
            assert!(diff(&empty, &s, Default::default()).is_err());
        }
    }

    /// What the first migration writes on Supabase: no role, no function, no USAGE on
    /// `auth`; and a diff from its snapshot to the unlowered model is empty.
    #[test]
    fn migrations_on_supabase() {
        let sql = migration(&schema()).unwrap();
        for absent in [
            "CREATE ROLE",
            "CREATE FUNCTION",
            "REPLACE",
            "SCHEMA auth",
            "anonymous",
        ] {
            assert!(!sql.contains(absent), "{absent} in:\n{sql}");
        }
        for present in [
            "(select auth.uid()) = \"notes\".\"owner\"",
            "\"clerk_notes\".\"owner\" = (select auth.jwt() ->> 'sub')",
            "\"owner\" uuid DEFAULT auth.uid() NOT NULL",
            "\"owner\" text DEFAULT (auth.jwt() ->> 'sub') NOT NULL",
            "TO \"anon\"",
            "GRANT SELECT ON \"public\".\"clerk_notes\" TO \"service_role\"",
        ] {
            assert!(sql.contains(present), "no {present} in:\n{sql}");
        }
        let plan = initial(&schema()).unwrap();
        let plan = diff(&plan.next, &schema(), Default::default()).unwrap();
        assert!(plan.is_empty(), "{}", plan.sql());
    }
}
