//! Questions about the model: which roles, enum types and schemas the tables use. Answers
//! are in order of first use, each once, so that everything rendered from them is stable.

use super::{EnumType, Role, RoleKind, TableDef, TypeName};

/// The session roles, then every role a policy or grant names, each once.
pub fn roles(tables: &[&TableDef], session_roles: &[Role]) -> Vec<Role> {
    let mut out = session_roles.to_vec();
    for r in policy_roles(tables) {
        if !out.iter().any(|o| o.name == r.name) {
            out.push(r);
        }
    }
    out
}

/// Every role a policy or grant names, in order of first mention (keywords other than
/// `PUBLIC` left out: they are not roles one can create or grant to by name).
pub fn policy_roles(tables: &[&TableDef]) -> Vec<Role> {
    let roles = tables.iter().flat_map(|t| {
        t.policies
            .iter()
            .flat_map(|p| p.roles.iter())
            .chain(t.grants.iter().map(|g| &g.role))
    });
    distinct(
        roles
            .filter(|r| r.kind != RoleKind::Keyword || r.name == "public")
            .cloned(),
    )
}

/// The enum types the columns of the tables the migrations create use, in order of first
/// use. An enum that only existing tables (`#[table(existing)]`) use exists with them.
pub fn enums(tables: &[&TableDef]) -> Vec<EnumType> {
    distinct(tables.iter().filter(|t| !t.existing).flat_map(|t| {
        t.columns.iter().filter_map(|c| match &c.ty.name {
            TypeName::Enum(e) => Some(e.clone()),
            TypeName::Builtin(_) => None,
        })
    }))
}

/// The schemas the tables the migrations create and their enum types live in, in order of
/// first use (an existing table's schema exists with it).
pub fn schemas(tables: &[&TableDef]) -> Vec<String> {
    let mut out = distinct(
        tables
            .iter()
            .filter(|t| !t.existing)
            .map(|t| t.schema.to_string()),
    );
    for e in enums(tables) {
        if !out.contains(&e.schema.to_string()) {
            out.push(e.schema.to_string());
        }
    }
    out
}

/// The items, each once, in order of first appearance.
pub fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
