//! The model as committed JSON next to the migrations: what the next migration is diffed
//! against, so no database is needed to generate it.

use crate::model::{Auth, TableDef};
use serde::{Deserialize, Serialize};

/// Bumped when the format changes incompatibly.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub auth: Auth,
    pub tables: Vec<TableDef>,
}

impl Snapshot {
    pub fn new(auth: Auth, tables: Vec<TableDef>) -> Snapshot {
        Snapshot {
            format: FORMAT,
            auth,
            tables,
        }
    }

    /// Pretty JSON: fields in declaration order, so equal models give equal files.
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).expect("the model serializes");
        out.push('\n');
        out
    }

    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if snapshot.format != FORMAT {
            return Err(format!(
                "snapshot format {} is not the {FORMAT} this version of rls reads",
                snapshot.format
            ));
        }
        Ok(snapshot)
    }
}
