//! `#[crud_policy]`, `#[policy]` and `#[grant]` -> the table's policies and grants.

use super::ast::{Clause, Grant, Policy, Table};
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::expr::{self, Columns};
use crate::roles::{self, RoleRef};
use quote::{ToTokens, quote};
use rls_rules::{Command, PolicyKind};
use syn::spanned::Spanned;
use syn::{Attribute, Expr};

const CRUD_KEYS: &[&str] = &["role", "read", "modify"];
const POLICY_KEYS: &[&str] = &["name", "as", "for", "to", "using", "with_check"];
const GRANT_KEYS: &[&str] = &["to", "privileges"];

/// Drizzle's `crudPolicy`: up to four permissive policies named from the roles.
pub fn crud_policy(
    table: &mut Table,
    attr: &Attribute,
    attr_index: usize,
    columns: Columns<'_>,
    errors: &mut Errors,
) {
    const A: &str = "crud_policy";
    let checkpoint = errors.checkpoint();
    let mut roles = Attr::none(A, "role");
    let mut read = Attr::none(A, "read");
    let mut modify = Attr::none(A, "modify");
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("role", Arg::Pair(k, v)) => {
                let value = (roles::parse(errors, v), v.span());
                roles.set(errors, k, Some(value));
            }
            ("read", Arg::Pair(k, v)) => {
                let value = clause(errors, columns, k, v);
                read.set(errors, k, Some(value));
            }
            ("modify", Arg::Pair(k, v)) => {
                let value = clause(errors, columns, k, v);
                modify.set(errors, k, Some(value));
            }
            _ => args::unknown(errors, A, &arg, CRUD_KEYS),
        }
    }
    // A misspelt key was reported: "needs `read`" would only repeat it.
    if errors.since(checkpoint) {
        return;
    }
    let Some((roles, span)) = roles.get() else {
        errors.at(attr, "#[crud_policy] needs `role`: #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]");
        return;
    };
    let (read, modify) = (read.get(), modify.get());
    if read.is_none() && modify.is_none() {
        errors.at(attr, "#[crud_policy] needs `read`, `modify` or both: #[crud_policy(role = authenticated, read = true)]");
    }
    // Drizzle's crudPolicy: `read` filters SELECT, `modify` both filters and checks writes.
    let crud = |command, using: Option<&Clause>, with_check: Option<&Clause>| Policy {
        name: None,
        kind: PolicyKind::Permissive,
        command,
        roles: roles.clone(),
        using: using.cloned(),
        with_check: with_check.cloned(),
        span,
        attr_tokens: attr.to_token_stream(),
        attr: attr_index,
    };
    if let Some(read) = &read {
        table.policies.push(crud(Command::Select, Some(read), None));
    }
    if let Some(m) = &modify {
        table.policies.push(crud(Command::Insert, None, Some(m)));
        table.policies.push(crud(Command::Update, Some(m), Some(m)));
        table.policies.push(crud(Command::Delete, Some(m), None));
    }
}

fn clause(errors: &mut Errors, columns: Columns<'_>, key: &syn::Ident, value: &Expr) -> Clause {
    let parsed = expr::parse(errors, columns, expr::Place::Policy, value);
    Clause {
        ops: parsed.ops,
        checks: parsed.checks,
        named: parsed.named,
        key: key.span(),
    }
}

/// One policy, spelt out as `CREATE POLICY` would be.
pub fn policy(
    table: &mut Table,
    attr: &Attribute,
    attr_index: usize,
    columns: Columns<'_>,
    errors: &mut Errors,
) {
    const P: &str = "policy";
    let checkpoint = errors.checkpoint();
    let mut name = Attr::none(P, "name");
    let mut kind = Attr::none(P, "as");
    let mut command = Attr::none(P, "for");
    let mut roles = Attr::none(P, "to");
    let mut using = Attr::none(P, "using");
    let mut with_check = Attr::none(P, "with_check");
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("name", Arg::Pair(k, v)) => {
                let value = args::string(errors, k, v).map(|s| (s.value(), v.span()));
                name.set(errors, k, value);
            }
            ("as", Arg::Pair(k, v)) => {
                let value =
                    args::choice(errors, k, v, PolicyKind::WORDS).and_then(PolicyKind::from_word);
                kind.set(errors, k, value);
            }
            ("for", Arg::Pair(k, v)) => {
                let value = args::choice(errors, k, v, Command::WORDS).and_then(Command::from_word);
                command.set(errors, k, value);
            }
            ("to", Arg::Pair(k, v)) => {
                let value = roles::parse(errors, v);
                roles.set(errors, k, Some(value));
            }
            ("using", Arg::Pair(k, v)) => {
                let value = clause(errors, columns, k, v);
                using.set(errors, k, Some(value));
            }
            ("with_check", Arg::Pair(k, v)) => {
                let value = clause(errors, columns, k, v);
                with_check.set(errors, k, Some(value));
            }
            _ => args::unknown(errors, P, &arg, POLICY_KEYS),
        }
    }
    if errors.since(checkpoint) {
        return;
    }
    let Some((name, span)) = name.get() else {
        errors.at(
            attr,
            "#[policy] needs a name: #[policy(name = \"members can read\", ...)]",
        );
        return;
    };
    // Without `to`, PostgreSQL's default; written out so the grant it implies is visible.
    let roles = roles.get().unwrap_or_else(|| {
        vec![RoleRef {
            tokens: quote!(::pgrls::Role::PUBLIC),
            key: "public".into(),
        }]
    });
    table.policies.push(Policy {
        name: Some(name),
        kind: kind.get().unwrap_or(PolicyKind::Permissive),
        command: command.get().unwrap_or(Command::All),
        roles,
        using: using.get(),
        with_check: with_check.get(),
        span,
        attr_tokens: attr.to_token_stream(),
        attr: attr_index,
    });
}

/// Explicit grants, which replace what the policies would grant those roles.
pub fn grant(table: &mut Table, attr: &Attribute, errors: &mut Errors) {
    const G: &str = "grant";
    let checkpoint = errors.checkpoint();
    let mut to = Attr::none(G, "to");
    let mut privileges = Attr::none(G, "privileges");
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("to", Arg::Pair(k, v)) => {
                let value = roles::parse(errors, v);
                to.set(errors, k, Some(value));
            }
            ("privileges", Arg::Pair(k, v)) => {
                // The words of `for`, standing for the privileges a policy for that command
                // would make usable (`all`: the four).
                let mut list = Vec::new();
                for e in args::list(v) {
                    if let Some(c) =
                        args::choice(errors, k, e, Command::WORDS).and_then(Command::from_word)
                    {
                        list.extend_from_slice(c.privileges());
                    }
                }
                privileges.set(errors, k, Some(list));
            }
            _ => args::unknown(errors, G, &arg, GRANT_KEYS),
        }
    }
    match (to.get(), privileges.get()) {
        (Some(roles), Some(privileges)) => {
            for role in roles {
                table.grants.push(Grant {
                    role,
                    privileges: privileges.clone(),
                });
            }
        }
        _ if errors.since(checkpoint) => {}
        _ => errors.at(attr, "#[grant] needs `to` and `privileges`: #[grant(to = authenticated, privileges = [select])] (`privileges = []` takes every privilege away)"),
    }
}
