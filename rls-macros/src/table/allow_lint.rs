//! `#[allow_lint(unused_grant, reason = "...")]`: silences lints of `gen-migrations lint` on
//! this table. The names come from rls-rules, the list the linter reports from, so a
//! misspelt one is refused here rather than silencing nothing.

use super::ast::{AllowedLint, Table};
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::similar;
use quote::ToTokens;
use rls_rules::lint::Lint;
use syn::Attribute;

pub fn parse(table: &mut Table, attr: &Attribute, errors: &mut Errors) {
    let checkpoint = errors.checkpoint();
    let mut reason = Attr::none("allow_lint", "reason");
    let mut lints = Vec::new();
    for arg in args::parse(attr, errors) {
        match &arg {
            Arg::Pair(k, v) if k == "reason" => {
                let value = args::string(errors, k, v).map(|s| s.value());
                if value.as_deref().is_some_and(|r| r.trim().is_empty()) {
                    errors.at(
                        v,
                        "the reason is empty: say why the lint does not apply here",
                    );
                }
                reason.set(errors, k, value);
            }
            Arg::Bare(e) => {
                if let Some(lint) = lint(e, errors) {
                    lints.push(lint);
                }
            }
            Arg::Pair(..) => args::unknown(errors, "allow_lint", &arg, &["reason"]),
        }
    }
    let reason = reason.get();
    if errors.since(checkpoint) {
        return;
    }
    if lints.is_empty() {
        errors.at(
            attr,
            "#[allow_lint] needs the lint's name: #[allow_lint(unused_grant, reason = \"...\")]",
        );
        return;
    }
    let Some(reason) = reason else {
        errors.at(
            attr,
            "#[allow_lint] needs a reason: #[allow_lint(name, reason = \"why it does not apply here\")]",
        );
        return;
    };
    for lint in lints {
        table.allowed_lints.push(AllowedLint {
            lint,
            reason: reason.clone(),
        });
    }
}

/// A lint's name, in snake_case as an identifier (`unused_grant`) or as reported, in a
/// string (`"unused-grant"`).
fn lint(e: &syn::Expr, errors: &mut Errors) -> Option<Lint> {
    let written = match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => s.value(),
        _ => match args::ident_of(e) {
            Some(ident) => ident.to_string().replace('_', "-"),
            None => {
                // `unused-grant` unquoted parses as a subtraction.
                let text = e.to_token_stream().to_string().replace(' ', "");
                let hint = match Lint::from_name(&text) {
                    Some(l) => format!(": write `{}`", snake(l.name())),
                    None => String::new(),
                };
                errors.at(e, format!("expected a lint's name{hint}"));
                return None;
            }
        },
    };
    let found = Lint::from_name(&written);
    if found.is_none() {
        let names: Vec<String> = Lint::NAMES.iter().map(|n| snake(n)).collect();
        let wrote = snake(&written);
        errors.at(
            e,
            format!(
                "unknown lint `{wrote}`{}\nthe lints: {}",
                similar::hint(&wrote, names.iter().map(String::as_str)),
                names.join(", ")
            ),
        );
    }
    found
}

fn snake(name: &str) -> String {
    name.replace('-', "_")
}
