//! Enum types: created, extended with ADD VALUE, or rebuilt when values go away.

use super::{Phase, Plan};
use crate::model::EnumType;
use crate::sql::{create_enum as create, quote};

/// Plans the type changes; returns the enums that are rebuilt (their columns must be
/// converted, see `tables::diff`).
pub fn diff(plan: &mut Plan, old: &[EnumType], new: &[EnumType]) -> Vec<EnumType> {
    let mut rebuilt = Vec::new();
    let same = |a: &EnumType, b: &EnumType| a.schema == b.schema && a.name == b.name;
    for n in new {
        let name = quote::qualified(&n.schema, &n.name);
        let Some(o) = old.iter().find(|o| same(o, n)) else {
            plan.push(Phase::Types, create(n));
            continue;
        };
        if o.values == n.values {
            continue;
        }
        // Old values kept in their order, new ones inserted: ADD VALUE can do it.
        let kept: Vec<&str> = n
            .values
            .iter()
            .filter(|v| o.values.contains(v))
            .map(|v| &**v)
            .collect();
        let old_order: Vec<&str> = o.values.iter().map(|v| &**v).collect();
        if kept == old_order {
            for (i, v) in n.values.iter().enumerate() {
                if o.values.contains(v) {
                    continue;
                }
                let position = match n.values[i + 1..].iter().find(|x| o.values.contains(x)) {
                    Some(next) => format!(" BEFORE {}", quote::string(next)),
                    None => String::new(),
                };
                plan.push(
                    Phase::Types,
                    format!(
                        "ALTER TYPE {name} ADD VALUE {}{position};",
                        quote::string(v)
                    ),
                );
            }
            continue;
        }
        // Values removed or reordered: a new type, and the columns converted to it.
        let dropped: Vec<&str> = o
            .values
            .iter()
            .filter(|v| !n.values.contains(v))
            .map(|v| &**v)
            .collect();
        let old_name = format!("{}__rls_old", n.name);
        plan.push(
            Phase::Types,
            format!(
                "ALTER TYPE {name} RENAME TO {};\n{}",
                quote::ident(&old_name),
                create(n)
            ),
        );
        let drop = format!("DROP TYPE {};", quote::qualified(&n.schema, &old_name));
        if dropped.is_empty() {
            plan.push(Phase::DropTypes, drop);
        } else {
            plan.push_destructive(
                Phase::DropTypes,
                drop,
                format!(
                    "drops the value(s) {} of enum {}.{}: rows holding them make the migration fail",
                    dropped.join(", "),
                    n.schema,
                    n.name
                ),
            );
        }
        rebuilt.push(n.clone());
    }
    for o in old.iter().filter(|o| !new.iter().any(|n| same(o, n))) {
        plan.push(
            Phase::DropTypes,
            format!("DROP TYPE {};", quote::qualified(&o.schema, &o.name)),
        );
    }
    rebuilt
}
