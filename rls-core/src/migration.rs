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
