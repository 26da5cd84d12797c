//! Enum types: created, extended with ADD VALUE, or rebuilt when values go away.

use super::{Change, Phase, Plan, QualifiedName};
use crate::model::EnumType;

/// Plans the type changes; returns the enums that are rebuilt (their columns must be
/// converted, see `tables::diff`).
pub fn diff(plan: &mut Plan, old: &[EnumType], new: &[EnumType]) -> Vec<EnumType> {
    let mut rebuilt = Vec::new();
    let same = |a: &EnumType, b: &EnumType| a.schema == b.schema && a.name == b.name;
    for n in new {
        let name = QualifiedName::of_enum(n);
        let Some(o) = old.iter().find(|o| same(o, n)) else {
            plan.push(
                Phase::Types,
                Change::CreateEnum {
                    enum_type: n.clone(),
                },
            );
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
                let before = n.values[i + 1..]
                    .iter()
                    .find(|x| o.values.contains(x))
                    .map(|next| next.to_string());
                plan.push(
                    Phase::Types,
                    Change::AddEnumValue {
                        enum_type: name.clone(),
                        value: v.to_string(),
                        before,
                    },
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
            Change::RenameEnum {
                enum_type: name.clone(),
                to: old_name.clone(),
            },
        );
        plan.push(
            Phase::Types,
            Change::CreateEnum {
                enum_type: n.clone(),
            },
        );
        let drop = Change::DropEnum {
            enum_type: QualifiedName::new(&n.schema, &old_name),
        };
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
            Change::DropEnum {
                enum_type: QualifiedName::of_enum(o),
            },
        );
    }
    rebuilt
}
