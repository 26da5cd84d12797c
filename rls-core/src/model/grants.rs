//! Least-privilege grants derived from the policies: which privileges each role gets on a
//! table. A fact about the model: the diff plans GRANT and REVOKE by it, the lint reads it.

use super::{PolicyKind, Privilege, Role, RoleKind, TableDef};

/// What each role may do on the table, in order of first mention: a role gets a command
/// only where a permissive policy gives it that command, unless an explicit `#[grant]` names
/// the role. A restrictive policy only narrows what permissive ones give, so it earns no
/// privilege.
pub fn table_grants(table: &TableDef) -> Vec<(Role, Vec<Privilege>)> {
    grants_by(table, false)
}

/// The grants that versions of pgrls before snapshot format 2 wrote: restrictive policies
/// earned their roles privileges too. What a database migrated by them holds, so the diff
/// from such a snapshot can revoke the excess.
pub fn legacy_table_grants(table: &TableDef) -> Vec<(Role, Vec<Privilege>)> {
    grants_by(table, true)
}

fn grants_by(table: &TableDef, restrictive_too: bool) -> Vec<(Role, Vec<Privilege>)> {
    let mut out: Vec<(Role, Vec<Privilege>)> = Vec::new();
    let mut add = |r: &Role, privileges: &[Privilege]| {
        // The owner (CURRENT_USER) already holds every privilege.
        if r.kind == RoleKind::Keyword && r.name == "current_user" {
            return;
        }
        let entry = match out.iter().position(|(have, _)| have.name == r.name) {
            Some(i) => &mut out[i].1,
            None => {
                out.push((r.clone(), Vec::new()));
                &mut out.last_mut().expect("just pushed").1
            }
        };
        entry.extend_from_slice(privileges);
    };
    let explicit = |r: &Role| table.grants.iter().any(|g| g.role.name == r.name);
    let earns = |kind: PolicyKind| restrictive_too || kind == PolicyKind::Permissive;
    for policy in table.policies.iter().filter(|p| earns(p.kind)) {
        for r in policy.roles.iter().filter(|r| !explicit(r)) {
            add(r, policy.command.privileges());
        }
    }
    for grant in table.grants.iter() {
        add(&grant.role, &grant.privileges);
    }
    for (_, privileges) in &mut out {
        privileges.sort();
        privileges.dedup();
    }
    out.retain(|(_, privileges)| !privileges.is_empty());
    out
}
