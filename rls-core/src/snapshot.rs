//! The model as committed JSON next to the migrations: what the next migration is diffed
//! against, so no database is needed to generate it.

use crate::model::{Auth, Role, SchemaDef, TableDef, Target};
use serde::{Deserialize, Serialize};

/// Bumped when the format changes incompatibly. Format 2: grants come from permissive
/// policies only. Format 1 snapshots are still read; their databases hold privileges that
/// restrictive policies earned, which the next migration revokes.
pub const FORMAT: u32 = 2;

/// The format before restrictive policies stopped earning grants.
const FORMAT_RESTRICTIVE_GRANTS: u32 = 1;

/// A model as committed next to the migrations: the auth provider, the session roles and
/// the tables of the [`SchemaDef`] the last migration was generated from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The format version: [`FORMAT`] when written; 1 is still read.
    pub format: u32,
    /// The auth provider the migrations were generated for.
    pub auth: Auth,
    /// The session roles (see [`crate::Schema::session_roles`]).
    #[serde(default)]
    pub session_roles: Vec<Role>,
    /// Where the schema runs; left out when it is [`Target::Postgres`], so snapshots of
    /// single-server schemas read as before.
    #[serde(default, skip_serializing_if = "Target::is_postgres")]
    pub target: Target,
    /// The tables, as the [`SchemaDef`] holds them (lowered onto the auth provider).
    pub tables: Vec<TableDef>,
}

impl Snapshot {
    /// A snapshot in the current [`FORMAT`].
    pub fn new(auth: Auth, session_roles: Vec<Role>, tables: Vec<TableDef>) -> Snapshot {
        Snapshot {
            format: FORMAT,
            auth,
            session_roles,
            target: Target::Postgres,
            tables,
        }
    }

    /// Pretty JSON: fields in declaration order, so equal models give equal files.
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).expect("the model serializes");
        out.push('\n');
        out
    }

    /// Reads a snapshot file. Refuses, saying why, a format this version does not read, a
    /// role with BYPASSRLS, and options on a role the migrations do not create.
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if snapshot.format != FORMAT && snapshot.format != FORMAT_RESTRICTIVE_GRANTS {
            return Err(format!(
                "snapshot format {} is not one this version of pgrls reads ({FORMAT_RESTRICTIVE_GRANTS} or {FORMAT})",
                snapshot.format
            ));
        }
        // A snapshot edited by hand to give a role BYPASSRLS (or options on a role the
        // migration does not create) is refused here, before anything is diffed against it.
        let mut errors = Vec::new();
        let table_roles = snapshot.tables.iter().flat_map(|t| {
            t.policies
                .iter()
                .flat_map(|p| p.roles.iter())
                .chain(t.grants.iter().map(|g| &g.role))
        });
        for r in crate::model::distinct(snapshot.session_roles.iter().chain(table_roles)) {
            crate::check::role_options(r, &mut |e| errors.push(e));
        }
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(snapshot)
    }
}

impl From<Snapshot> for SchemaDef {
    fn from(snapshot: Snapshot) -> SchemaDef {
        SchemaDef {
            auth: snapshot.auth,
            session_roles: snapshot.session_roles,
            target: snapshot.target,
            tables: snapshot.tables,
            restrictive_grants: snapshot.format == FORMAT_RESTRICTIVE_GRANTS,
        }
    }
}

impl From<SchemaDef> for Snapshot {
    fn from(schema: SchemaDef) -> Snapshot {
        Snapshot {
            target: schema.target,
            ..Snapshot::new(schema.auth, schema.session_roles, schema.tables)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_given_bypassrls_by_hand_is_refused() {
        let mut role = Role::create("admin");
        role.options.bypass_rls = true;
        let json = Snapshot::new(Auth::Postgres, vec![role], Vec::new()).to_json();
        assert!(json.contains("\"bypass_rls\": true"), "{json}");
        let refused = Snapshot::from_json(&json).unwrap_err();
        assert!(refused.contains("BYPASSRLS is refused"), "{refused}");
        // Options this library does not know are refused too, never silently dropped.
        let json = json.replace("\"bypass_rls\"", "\"superuser\"");
        assert!(
            Snapshot::from_json(&json)
                .unwrap_err()
                .contains("superuser")
        );
    }

    #[test]
    fn roles_without_options_load_and_are_written_without_them() {
        let json =
            Snapshot::new(Auth::Postgres, vec![Role::create("editor")], Vec::new()).to_json();
        assert!(!json.contains("options"), "{json}");
        let loaded = Snapshot::from_json(&json).unwrap();
        assert!(loaded.session_roles[0].options.is_default());
        let json = Snapshot::new(
            Auth::Postgres,
            vec![Role::create("admin").create_role().no_inherit()],
            Vec::new(),
        )
        .to_json();
        let loaded = Snapshot::from_json(&json).unwrap();
        assert_eq!(
            loaded.session_roles[0],
            Role::create("admin").create_role().no_inherit()
        );
    }
}
