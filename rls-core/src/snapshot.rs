//! The model as committed JSON next to the migrations: what the next migration is diffed
//! against, so no database is needed to generate it.

use crate::model::{Auth, Role, SchemaDef, TableDef};
use serde::{Deserialize, Serialize};

/// Bumped when the format changes incompatibly.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub auth: Auth,
    /// The session roles (see [`crate::Schema::session_roles`]).
    #[serde(default)]
    pub session_roles: Vec<Role>,
    pub tables: Vec<TableDef>,
}

impl Snapshot {
    pub fn new(auth: Auth, session_roles: Vec<Role>, tables: Vec<TableDef>) -> Snapshot {
        Snapshot {
            format: FORMAT,
            auth,
            session_roles,
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

impl From<Snapshot> for SchemaDef {
    fn from(snapshot: Snapshot) -> SchemaDef {
        SchemaDef {
            auth: snapshot.auth,
            session_roles: snapshot.session_roles,
            tables: snapshot.tables,
        }
    }
}

impl From<SchemaDef> for Snapshot {
    fn from(schema: SchemaDef) -> Snapshot {
        Snapshot::new(schema.auth, schema.session_roles, schema.tables)
    }
}
