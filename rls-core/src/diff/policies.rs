//! Policies: ALTER where PostgreSQL can (roles, USING, WITH CHECK, name), DROP + CREATE
//! where it cannot (command, permissive/restrictive, a clause taken away).

use super::{Phase, Plan};
use crate::model::{Expr, ExprOp, Policy, PolicyName, TableDef};
use crate::sql::{names, policy, quote, table};

/// Whether the policy may read one of `columns`: it names one, or holds raw SQL that might.
pub fn may_read(p: &Policy, columns: &[String]) -> bool {
    p.using
        .iter()
        .chain(p.with_check.iter())
        .any(|e| expr_may_read(e, columns))
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
    let on = table::table_name(new);
    let drop = |p: &Policy| format!("DROP POLICY {} ON {on};", quote::ident(&names::policy(p)));
    if rebuild {
        for p in old.policies.iter() {
            plan.push(Phase::DropPolicies, drop(p));
        }
        for p in new.policies.iter() {
            plan.push(Phase::Policies, policy::create(new, p));
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
            .max_by_key(|(_, n)| n.roles.iter().filter(|r| o.roles.contains(r)).count())
            .map(|(i, _)| i);
        match candidate {
            Some(i) => {
                let n = unmatched_new.remove(i);
                let (from, to) = (names::policy(o), names::policy(n));
                plan.push(
                    Phase::Policies,
                    format!(
                        "ALTER POLICY {} ON {on} RENAME TO {};",
                        quote::ident(&from),
                        quote::ident(&to)
                    ),
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
        plan.push(Phase::Policies, policy::create(new, n));
    }
}

/// ALTER POLICY cannot change the command or the kind, nor remove a clause.
fn recreates(old: &Policy, new: &Policy) -> bool {
    old.command != new.command
        || old.kind != new.kind
        || (old.using.is_some() && new.using.is_none())
        || (old.with_check.is_some() && new.with_check.is_none())
}

/// `old` and `new` are the same policy (now named `name`).
fn change(
    plan: &mut Plan,
    on: &str,
    old_table: &TableDef,
    old: &Policy,
    new_table: &TableDef,
    new: &Policy,
    name: &str,
) {
    let text =
        |t: &TableDef, e: &Option<crate::model::Expr>| e.as_ref().map(|e| policy::clause(t, e));
    let (old_using, new_using) = (text(old_table, &old.using), text(new_table, &new.using));
    let (old_check, new_check) = (
        text(old_table, &old.with_check),
        text(new_table, &new.with_check),
    );
    if recreates(old, new) {
        plan.push(
            Phase::DropPolicies,
            format!("DROP POLICY {} ON {on};", quote::ident(&names::policy(old))),
        );
        plan.push(Phase::Policies, policy::create(new_table, new));
        return;
    }
    let mut clauses = String::new();
    if old.roles != new.roles {
        clauses.push_str(&format!(" TO {}", policy::roles(&new.roles)));
    }
    if old_using != new_using
        && let Some(u) = &new_using
    {
        clauses.push_str(&format!(" USING ({u})"));
    }
    if old_check != new_check
        && let Some(c) = &new_check
    {
        clauses.push_str(&format!(" WITH CHECK ({c})"));
    }
    if !clauses.is_empty() {
        plan.push(
            Phase::Policies,
            format!("ALTER POLICY {} ON {on}{clauses};", quote::ident(name)),
        );
    }
}
