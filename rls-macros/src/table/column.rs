//! A field's `#[column(...)]` attributes -> [`Field`].

use super::ast::{ColumnDefault, Field, Reference};
use super::attr::key;
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::expr;
use proc_macro2::TokenStream;
use quote::quote;
use rls_rules::{FkAction, Identity};
use syn::Expr;
use syn::ext::IdentExt;

const COLUMN_KEYS: &[&str] = &[
    "rename",
    "primary_key",
    "identity",
    "default",
    "unique",
    "index",
    "policy_index",
    "renamed_from",
    "references",
    "on_delete",
    "on_update",
    "sql_type",
];
/// `#[column(...)]` on one field, possibly split over several attributes.
pub fn field(f: &syn::Field, errors: &mut Errors) -> Field {
    const C: &str = "column";
    let checkpoint = errors.checkpoint();
    let ident = f.ident.clone().expect("named field");
    let mut rename = Attr::none(C, "rename");
    let mut primary_key = Attr::none(C, "primary_key");
    let mut unique = Attr::none(C, "unique");
    let mut index = Attr::none(C, "index");
    let mut identity = Attr::none(C, "identity");
    let mut default = Attr::none(C, "default");
    let mut policy_index = Attr::none(C, "policy_index");
    let mut renamed_from = Attr::none(C, "renamed_from");
    let mut references = Attr::none(C, "references");
    let mut on_delete = Attr::none(C, "on_delete");
    let mut on_update = Attr::none(C, "on_update");
    let mut sql_type = Attr::none(C, "sql_type");
    for attr in f.attrs.iter().filter(|a| a.path().is_ident(C)) {
        for arg in args::parse(attr, errors) {
            match (arg.word().as_str(), &arg) {
                ("primary_key", Arg::Bare(_)) => primary_key.flag(errors, key(&arg)),
                ("unique", Arg::Bare(_)) => unique.flag(errors, key(&arg)),
                ("index", Arg::Bare(_)) => index.flag(errors, key(&arg)),
                ("identity", Arg::Bare(_)) => {
                    identity.set(errors, key(&arg), Some(Identity::ByDefault))
                }
                ("identity", Arg::Pair(k, v)) => {
                    let value =
                        args::choice(errors, k, v, Identity::WORDS).and_then(Identity::from_word);
                    identity.set(errors, k, value);
                }
                ("rename", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    rename.set(errors, k, value);
                }
                ("sql_type", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).filter(|s| {
                        let ok = !s.value().trim().is_empty();
                        if !ok {
                            errors.at(
                                s,
                                "`sql_type` needs a PostgreSQL type: sql_type = \"varchar(80)\"",
                            );
                        }
                        ok
                    });
                    sql_type.set(errors, k, value);
                }
                ("renamed_from", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    renamed_from.set(errors, k, value);
                }
                ("policy_index", Arg::Pair(k, v)) => {
                    let value = args::boolean(errors, k, v);
                    policy_index.set(errors, k, value);
                }
                ("default", Arg::Pair(k, v)) => {
                    let value = default_expr(errors, v).map(|tokens| ColumnDefault {
                        user_id: is_call(v, "auth_user_id"),
                        tokens,
                        span: k.span(),
                    });
                    default.set(errors, k, value);
                }
                ("references", Arg::Pair(k, v)) => {
                    let value = reference(errors, v);
                    references.set(errors, k, value);
                }
                ("on_delete", Arg::Pair(k, v)) => {
                    let value = fk_action(errors, k, v);
                    on_delete.set(errors, k, value);
                }
                ("on_update", Arg::Pair(k, v)) => {
                    let value = fk_action(errors, k, v);
                    on_update.set(errors, k, value);
                }
                _ => args::unknown(errors, C, &arg, COLUMN_KEYS),
            }
        }
    }
    let mut references: Option<Reference> = references.get();
    let (on_delete, on_update) = (on_delete.get(), on_update.get());
    match &mut references {
        Some(r) => {
            r.on_delete = on_delete.map_or(FkAction::NoAction, |(a, _)| a);
            r.on_update = on_update.map_or(FkAction::NoAction, |(a, _)| a);
        }
        None => {
            for (_, key) in on_delete.iter().chain(on_update.iter()) {
                errors.at(
                    key,
                    format!("`{key}` applies to a foreign key: add `references = Table::column`"),
                );
            }
        }
    }
    Field {
        vis: f.vis.clone(),
        sql: rename.get().unwrap_or_else(|| ident.unraw().to_string()),
        ident,
        ty: f.ty.clone(),
        primary_key: primary_key.get(),
        unique: unique.get().is_some(),
        index: index.get().is_some(),
        identity: identity.get(),
        default: default.get(),
        policy_index: policy_index.get().unwrap_or(true),
        references,
        sql_type: sql_type.get(),
        renamed_from: renamed_from.get(),
        attr_errors: errors.since(checkpoint),
    }
}

/// Whether `value` is a call of the function `name`.
fn is_call(value: &Expr, name: &str) -> bool {
    matches!(value, Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident(name)))
}

/// `on_delete = cascade`, with the key kept for "applies to a foreign key".
fn fk_action(
    errors: &mut Errors,
    key: &syn::Ident,
    value: &Expr,
) -> Option<(FkAction, syn::Ident)> {
    let action = args::choice(errors, key, value, FkAction::WORDS).and_then(FkAction::from_word)?;
    Some((action, key.clone()))
}

/// `default = false | 3 | "x" | now() | auth_user_id() | sql("...")` as `DefaultExpr` tokens.
fn default_expr(errors: &mut Errors, value: &Expr) -> Option<TokenStream> {
    if let Expr::Call(call) = value {
        let name = match &*call.func {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        return match (name.as_deref(), call.args.len()) {
            (Some("now"), 0) => Some(quote!(DefaultExpr::Now)),
            (Some("auth_user_id"), 0) => Some(quote!(DefaultExpr::AuthUserId)),
            (Some("sql"), 1) => {
                expr::raw_sql(errors, &call.args[0]).map(|raw| quote!(DefaultExpr::Sql(B(#raw))))
            }
            _ => {
                errors.at(value, "unsupported default; write a literal (false, 0, \"text\"), now(), auth_user_id() or sql(\"...\")");
                None
            }
        };
    }
    let lit = expr::literal(errors, value)?;
    Some(quote!(DefaultExpr::Literal(#lit)))
}

fn reference(errors: &mut Errors, value: &Expr) -> Option<Reference> {
    let help =
        "`references` names the target column as Table::column, e.g. references = Project::id";
    match value {
        Expr::Path(path) if path.path.segments.len() >= 2 => Some(Reference {
            path: path.clone(),
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
        }),
        _ => {
            errors.at(value, help);
            None
        }
    }
}
