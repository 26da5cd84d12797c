//! Policies: ALTER where PostgreSQL can (roles, USING, WITH CHECK, name), DROP + CREATE
//! where it cannot (command, permissive/restrictive, a clause taken away).

use super::{Change, Phase, Plan, QualifiedName};
use crate::model::{Expr, ExprOp, Policy, PolicyName, TableDef, names, same_clause};

/// Whether the policy may read one of `columns`: it names one, or holds raw SQL that might.
pub fn may_read(p: &Policy, columns: &[String]) -> bool {
    p.clauses().any(|e| expr_may_read(e, columns))
}

/// Whether an expression may read one of `columns`: it names one, or holds raw SQL.
pub fn expr_may_read(e: &Expr, columns: &[String]) -> bool {
    !columns.is_empty()
        && e.ops.iter().any(|op| match op {
            ExprOp::Column(c) => columns.iter().any(|x| x == c),
            ExprOp::Raw(_) => true,
            _ => false,
        })
}

pub fn diff(plan: &mut Plan, old: &TableDef, new: &TableDef, rebuild: bool) {
    let on = QualifiedName::of(new);
    let drop = |p: &Policy| Change::DropPolicy {
        table: on.clone(),
        name: names::policy(p),
    };
    let create = |p: &Policy| Change::CreatePolicy {
        table: on.clone(),
        policy: p.clone(),
    };
    if rebuild {
        for p in old.policies.iter() {
            plan.push(Phase::DropPolicies, drop(p));
        }
        for p in new.policies.iter() {
            plan.push(Phase::Policies, create(p));
        }
        return;
    }
    let mut unmatched_old: Vec<&Policy> = Vec::new();
    let mut unmatched_new: Vec<&Policy> = new
        .policies
        .iter()
        .filter(|n| {
            !old.policies
                .iter()
                .any(|o| names::policy(o) == names::policy(n))
        })
        .collect();
    for o in old.policies.iter() {
        match new
            .policies
            .iter()
            .find(|n| names::policy(n) == names::policy(o))
        {
            Some(n) => change(plan, &on, old, o, new, n, &names::policy(n)),
            None => unmatched_old.push(o),
        }
    }
    // A crud_policy whose roles changed has new names: pair old and new policies of the
    // same command by the roles they share, and rename + alter rather than drop + create.
    let mut dropped = Vec::new();
    for o in unmatched_old {
        let candidate = unmatched_new
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                o.name == PolicyName::Crud
                    && n.name == PolicyName::Crud
                    && n.command == o.command
                    && !recreates(o, n)
            })
            .max_by_key(|(_, n)| {
                n.roles
                    .iter()
                    .filter(|r| o.roles.iter().any(|or| or.name == r.name))
                    .count()
            })
            .map(|(i, _)| i);
        match candidate {
            Some(i) => {
                let n = unmatched_new.remove(i);
                let (from, to) = (names::policy(o), names::policy(n));
                plan.push(
                    Phase::Policies,
                    Change::RenamePolicy {
                        table: on.clone(),
                        from,
                        to: to.clone(),
                    },
                );
                change(plan, &on, old, o, new, n, &to);
            }
            None => dropped.push(o),
        }
    }
    for o in dropped {
        plan.push(Phase::DropPolicies, drop(o));
    }
    for n in unmatched_new {
        plan.push(Phase::Policies, create(n));
    }
}

/// ALTER POLICY cannot change the command or the kind, nor remove a clause.
fn recreates(old: &Policy, new: &Policy) -> bool {
    old.command != new.command
        || old.kind != new.kind
        || (old.using.is_some() && new.using.is_none())
        || (old.with_check.is_some() && new.with_check.is_none())
}

/// `old` and `new` are the same policy (now named `name`). Clauses compare as they are
/// written (see `same_clause`).
fn change(
    plan: &mut Plan,
    on: &QualifiedName,
    old_table: &TableDef,
    old: &Policy,
    new_table: &TableDef,
    new: &Policy,
    name: &str,
) {
    let same = |a: &Option<Expr>, b: &Option<Expr>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_clause(&old_table.name, a, &new_table.name, b),
        _ => false,
    };
    if recreates(old, new) {
        plan.push(
            Phase::DropPolicies,
            Change::DropPolicy {
                table: on.clone(),
                name: names::policy(old),
            },
        );
        plan.push(
            Phase::Policies,
            Change::CreatePolicy {
                table: on.clone(),
                policy: new.clone(),
            },
        );
        return;
    }
    let changed = |a: &Option<Expr>, b: &Option<Expr>| (!same(a, b)).then(|| b.clone()).flatten();
    // By name: a role's options are the role's business, not the policy's.
    let names = |p: &Policy| p.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let roles = (names(old) != names(new)).then(|| new.roles.to_vec());
    let using = changed(&old.using, &new.using);
    let with_check = changed(&old.with_check, &new.with_check);
    if roles.is_some() || using.is_some() || with_check.is_some() {
        plan.push(
            Phase::Policies,
            Change::AlterPolicy {
                table: on.clone(),
                name: name.to_string(),
                roles,
                using,
                with_check,
            },
        );
    }
}
