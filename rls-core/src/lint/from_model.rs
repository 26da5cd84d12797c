//! The facts of a model: what its migrations create, as the renderer writes it, so that the
//! static lints see exactly what the live ones will.

use super::facts::*;
use crate::model::{Auth, PolicyKind, Role, RoleKind, SchemaDef, TableDef, names};
use crate::sql;

/// The roles requests run as whatever the schema says: Neon's and Supabase's, and PUBLIC.
pub const EXPOSED_ROLES: &[&str] = &["public", "anon", "anonymous", "authenticated"];

/// Those and the schema's session roles.
pub fn exposed_roles(schema: &SchemaDef) -> Vec<String> {
    let mut roles: Vec<String> = EXPOSED_ROLES.iter().map(|r| r.to_string()).collect();
    for r in &schema.session_roles {
        if !roles.contains(&r.name.to_string()) {
            roles.push(r.name.to_string());
        }
    }
    roles
}

pub fn facts(schema: &SchemaDef) -> Facts {
    let exposed_roles = exposed_roles(schema);
    let functions: Vec<FunctionFacts> = match schema.auth {
        // The provider the first migration creates (`sql::preamble`); Neon's extension brings
        // its own, which the live lints leave to the extension.
        Auth::Postgres => ["session", "user_id"]
            .iter()
            .map(|name| FunctionFacts {
                schema: "auth".into(),
                name: name.to_string(),
                args: String::new(),
                language: "sql".into(),
                security_definer: false,
                search_path_set: false,
                executable_by: exposed_roles.clone(),
                lookup: false,
            })
            .collect(),
        // Neon's extension and Supabase bring their own.
        Auth::Neon | Auth::Supabase => Vec::new(),
    };
    let lookups = schema.tables.iter().flat_map(|t| {
        t.lookups.iter().map(|l| FunctionFacts {
            schema: t.schema.to_string(),
            name: l.name.to_string(),
            args: String::new(),
            language: "sql".into(),
            security_definer: true,
            search_path_set: true,
            executable_by: Vec::new(),
            lookup: true,
        })
    });
    let functions = functions.into_iter().chain(lookups).collect();
    Facts {
        tables: schema.tables.iter().map(table).collect(),
        functions,
        views: Vec::new(),
        exposed_roles,
    }
}

fn role(r: &Role) -> String {
    match r.kind {
        RoleKind::Keyword => r.name.to_lowercase(),
        RoleKind::Created | RoleKind::Existing => r.name.to_string(),
    }
}

fn table(t: &TableDef) -> TableFacts {
    let policies = t
        .policies
        .iter()
        .map(|p| PolicyFacts {
            name: names::policy(p),
            permissive: p.kind == PolicyKind::Permissive,
            command: p.command,
            roles: p.roles.iter().map(role).collect(),
            using: p.using.as_ref().map(|e| sql::policy::clause(&t.name, e)),
            with_check: p
                .with_check
                .as_ref()
                .map(|e| sql::policy::clause(&t.name, e)),
        })
        .collect();
    let grants = crate::model::table_grants(t)
        .into_iter()
        .flat_map(|(r, privileges)| {
            let r = role(&r);
            privileges.into_iter().map(move |p| (r.clone(), p))
        })
        .collect();
    let indexes = (!t.existing).then(|| {
        let strings = |cols: &[crate::model::Str]| cols.iter().map(|c| c.to_string()).collect();
        let mut all = Vec::new();
        if !t.primary_key.is_empty() {
            all.push(IndexFacts {
                name: names::primary_key(t),
                columns: strings(&t.primary_key),
                unique: true,
                predicate: None,
            });
        }
        for u in t.unique_constraints() {
            all.push(IndexFacts {
                name: names::unique(t, &u.columns),
                columns: strings(&u.columns),
                unique: true,
                predicate: None,
            });
        }
        for i in crate::model::indexes(t) {
            all.push(IndexFacts {
                name: names::index(t, &i),
                columns: strings(&i.columns),
                unique: i.unique,
                predicate: None,
            });
        }
        all
    });
    TableFacts {
        schema: t.schema.to_string(),
        name: t.name.to_string(),
        rls: t.rls_enabled(),
        on_workers: t.on_workers(),
        columns: t
            .columns
            .iter()
            .map(|c| ColumnFacts {
                name: c.name.to_string(),
                ty: sql::sql_type(&c.ty),
            })
            .collect(),
        policies,
        grants,
        indexes,
        foreign_keys: t
            .foreign_keys
            .iter()
            .map(|fk| ForeignKeyFacts {
                name: names::foreign_key(t, &fk.columns),
                columns: fk.columns.iter().map(|c| c.to_string()).collect(),
            })
            .collect(),
        allowed: t.allowed_lints.to_vec(),
    }
}
