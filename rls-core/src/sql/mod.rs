//! The one SQL renderer: every statement the project emits is written here, from the model
//! and from the [`Change`](crate::change::Change)s of a plan ([`render_change`], and
//! `plan.rs` for a whole plan). It only renders: it asks the model, never `check` or `diff`;
//! the first migration is assembled above it, in [`crate::migration`].

mod citus;
pub mod expr;
pub(crate) mod grants;
pub(crate) mod lookup;
mod plan;
pub(crate) mod policy;
pub(crate) mod preamble;
mod render_change;
pub(crate) mod table;

/// The quoting of identifiers and literals: a leaf below every layer (the model spells enum
/// type names with it), here under the path the rest of the crate and the tests know.
pub use crate::quote;

/// The names the model gives constraints, indexes and policies (`model/names.rs`), under
/// their old path, which `tests/roundtrip` names.
pub mod names {
    pub use crate::model::names::*;
}

/// Between the two files of a split migration (see [`crate::plan::Split`]) when they are
/// printed as one text.
pub const SECOND_FILE: &str = "\n-- ---- next migration file: run in a transaction of its own, after the one above commits ----\n\n";
pub use plan::first_migration;
pub use render_change::{render_change, render_steps, render_steps_for};
pub use table::{create_enum, sql_type, table_name};

use crate::model::SchemaDef;
use std::fmt::Write;

/// For `gen-migrations verify`'s scratch database: the existing tables (`#[table(existing)]`)
/// as another tool would have made them, before the migration runs: their schemas, the enum
/// types only they use, and their declared columns and keys. Not a migration: the migrations
/// never create these tables.
pub fn stand_ins(schema: &SchemaDef) -> String {
    let existing: Vec<&crate::model::TableDef> =
        schema.tables.iter().filter(|t| t.existing).collect();
    let managed_enums = schema.enums();
    let mut out = String::new();
    for s in crate::model::distinct(existing.iter().map(|t| t.schema.to_string())) {
        let _ = writeln!(out, "{}", preamble::create_schema(&s));
    }
    let enums = existing.iter().flat_map(|t| {
        t.columns.iter().filter_map(|c| match &c.ty.name {
            crate::model::TypeName::Enum(e) => Some(e.clone()),
            crate::model::TypeName::Builtin(_) => None,
        })
    });
    for e in crate::model::distinct(enums)
        .iter()
        .filter(|e| !managed_enums.contains(e))
    {
        out.push_str(&create_enum(e));
        out.push('\n');
    }
    for t in existing {
        out.push_str(&table::create(t, &[]));
        out.push('\n');
    }
    out
}
