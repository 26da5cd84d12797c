//! `#[foreign_key(a, b, references = Target, on_delete = cascade)]`: a foreign key on several
//! columns, to the target's primary key in its order. What a table distributed on Citus needs
//! to reference another on both distribution columns (`#[column(references = ...)]` takes
//! one column).

use super::ast::{CompositeKey, Table};
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::expr::{self, Columns};
use rls_rules::FkAction;
use syn::Attribute;

const KEYS: &[&str] = &["references", "on_delete", "on_update"];

pub fn parse(table: &mut Table, attr: &Attribute, columns: Columns<'_>, errors: &mut Errors) {
    const F: &str = "foreign_key";
    let checkpoint = errors.checkpoint();
    let mut target = Attr::none(F, "references");
    let mut on_delete = Attr::none(F, "on_delete");
    let mut on_update = Attr::none(F, "on_update");
    let mut cols = Vec::new();
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("references", Arg::Pair(k, v)) => {
                let value = match v {
                    syn::Expr::Path(p) => Some(p.path.clone()),
                    _ => {
                        errors.at(v, "`references` names the target struct, whose primary key the columns reference in order: references = Project");
                        None
                    }
                };
                target.set(errors, k, value);
            }
            ("on_delete", Arg::Pair(k, v)) => {
                let value = action(errors, k, v);
                on_delete.set(errors, k, value);
            }
            ("on_update", Arg::Pair(k, v)) => {
                let value = action(errors, k, v);
                on_update.set(errors, k, value);
            }
            (_, Arg::Bare(e)) if arg.key().is_some() || !matches!(e, syn::Expr::Lit(_)) => {
                if let Some(c) = expr::column(errors, columns, e) {
                    cols.push(c.to_string());
                }
            }
            _ => args::unknown(errors, F, &arg, KEYS),
        }
    }
    let target = target.get();
    if target.is_none() && !errors.since(checkpoint) {
        errors.at(attr, "#[foreign_key] needs the target struct: #[foreign_key(org_id, project_id, references = Project)]");
    }
    if cols.is_empty() && !errors.since(checkpoint) {
        errors.at(attr, "#[foreign_key] needs the referencing columns, in the order of the target's primary key: #[foreign_key(org_id, project_id, references = Project)]");
    }
    if let (Some(target), false) = (target, errors.since(checkpoint)) {
        table.composite_keys.push(CompositeKey {
            columns: cols,
            target,
            on_delete: on_delete.get().unwrap_or(FkAction::NoAction),
            on_update: on_update.get().unwrap_or(FkAction::NoAction),
        });
    }
}

fn action(errors: &mut Errors, key: &syn::Ident, value: &syn::Expr) -> Option<FkAction> {
    args::choice(errors, key, value, FkAction::WORDS).and_then(FkAction::from_word)
}
