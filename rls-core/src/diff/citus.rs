//! What a schema on Citus adds to a migration: its tables' placements and its session roles'
//! LOGIN (see `model/distribution.rs`).

use super::{Change, DiffError, Phase, Plan, QualifiedName};
use crate::change::Placement;
use crate::check::SchemaError;
use crate::model::{Distribution, SchemaDef, TableDef, Target};

/// LOGIN for the session roles of `new` on Citus that did not have it in `old` (none: the
/// first migration).
pub(super) fn allow_login(plan: &mut Plan, old: Option<&SchemaDef>, new: &SchemaDef) {
    if new.target != Target::Citus {
        return;
    }
    let had = |name: &str| {
        old.is_some_and(|o| {
            o.target == Target::Citus && o.session_roles.iter().any(|r| r.name == name)
        })
    };
    for role in new.session_roles.iter().filter(|r| !had(&r.name)) {
        plan.push(Phase::Roles, Change::AllowLogin { role: role.clone() });
    }
}

/// `t`'s placement, when Citus distributes or replicates it; `all` resolves its co-location.
pub(super) fn distribute(plan: &mut Plan, t: &TableDef, all: &[TableDef]) {
    if let Some(placement) = placement(t, all) {
        plan.push(
            Phase::CreateTables,
            Change::Distribute {
                table: QualifiedName::of(t),
                placement,
            },
        );
    }
}

fn placement(t: &TableDef, all: &[TableDef]) -> Option<Placement> {
    if t.existing {
        return None;
    }
    Some(match t.distribution.as_ref()? {
        Distribution::Reference => Placement::Reference,
        Distribution::Distributed {
            column,
            colocate_with,
        } => Placement::Distributed {
            column: column.to_string(),
            colocate_with: colocate_with.as_ref().map(|with| {
                let schema = all
                    .iter()
                    .find(|o| o.name == *with)
                    .map_or(&*t.schema, |o| &*o.schema);
                QualifiedName::new(schema, with)
            }),
        },
    })
}

/// Kept tables (`mapped`: the old tables under their new names) that Citus now places: a table
/// of the coordinator distributed or made a reference table. A placement that changes or goes
/// is refused: Citus moves the rows with `alter_distributed_table` or `undistribute_table`,
/// which rewrite the whole table, and that is the operator's call.
pub(super) fn placements(
    plan: &mut Plan,
    mapped: &[TableDef],
    new: &[TableDef],
) -> Result<(), DiffError> {
    let mut errors = Vec::new();
    for n in new {
        let Some(m) = mapped
            .iter()
            .find(|m| m.schema == n.schema && m.name == n.name)
        else {
            continue;
        };
        match (&m.distribution, &n.distribution) {
            (a, b) if a == b => {}
            (None, Some(_)) => distribute(plan, n, new),
            (was, now) => errors.push(SchemaError {
                table: format!("{}.{}", n.schema, n.name),
                message: format!(
                    "its placement on Citus changes ({} → {}): pgrls does not generate that, since Citus rewrites the whole table for it. Run alter_distributed_table (another column or co-location) or undistribute_table yourself, then state the placement it has; if a new foreign key on the distribution column changed the inferred co-location, state the old one with colocate_with = \"...\"",
                    describe(was),
                    describe(now)
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DiffError::Schema(errors))
    }
}

fn describe(d: &Option<Distribution>) -> String {
    match d {
        None => "on the coordinator".into(),
        Some(Distribution::Reference) => "a reference table".into(),
        Some(Distribution::Distributed {
            column,
            colocate_with,
        }) => match colocate_with {
            Some(with) => format!("distributed by {column}, co-located with {with}"),
            None => format!("distributed by {column}"),
        },
    }
}
