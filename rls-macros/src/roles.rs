//! Role references: `authenticated`, `[authenticated, EDITOR]`, `crate::roles::EDITOR`.

use crate::args;
use crate::errors::Errors;
use crate::similar;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::Expr;

/// Roles that need no declaration, with the constant that defines each.
const BUILTIN: &[(&str, &str)] = &[
    ("authenticated", "AUTHENTICATED"),
    ("anonymous", "ANONYMOUS"),
    ("anon", "ANON"),
    ("service_role", "SERVICE_ROLE"),
    ("public", "PUBLIC"),
    ("current_user", "CURRENT_USER"),
];

#[derive(Clone)]
pub struct RoleRef {
    /// Code that evaluates to a `pgrls::Role`.
    pub tokens: TokenStream,
    /// The role's name for built-ins, the constant's path for custom roles: what makes two
    /// references equal when the macro compares policy names.
    pub key: String,
}

pub fn parse(errors: &mut Errors, value: &Expr) -> Vec<RoleRef> {
    let checkpoint = errors.checkpoint();
    let mut out = Vec::new();
    for e in args::list(value) {
        let Expr::Path(path) = e else {
            errors.at(e, role_help("expected a role"));
            continue;
        };
        if let Some(ident) = path.path.get_ident() {
            let word = ident.to_string();
            if let Some((_, constant)) = BUILTIN.iter().find(|(name, _)| *name == word) {
                let constant = syn::Ident::new(constant, ident.span());
                out.push(RoleRef {
                    tokens: quote!(::pgrls::Role::#constant),
                    key: word,
                });
                continue;
            }
            // A lowercase word is a misspelt built-in, or a role that needs declaring: custom
            // roles are constants, spelt in upper case.
            if word.chars().any(|c| c.is_ascii_lowercase()) {
                let hint = similar::hint(&word, BUILTIN.iter().map(|(n, _)| *n));
                errors.at(ident, role_help(&format!("unknown role `{word}`{hint}")));
                continue;
            }
        }
        out.push(RoleRef {
            tokens: path.to_token_stream(),
            key: path.to_token_stream().to_string().replace(' ', ""),
        });
    }
    // After an unknown role, "expected at least one" would only repeat it.
    if out.is_empty() && !errors.since(checkpoint) {
        errors.at(value, role_help("expected at least one role"));
    }
    out
}

fn role_help(message: &str) -> String {
    format!(
        "{message}\nbuilt-in roles: authenticated, anonymous, anon, service_role, public, current_user; \
         declare other roles as constants and name them here: \
         `pub const EDITOR: pgrls::Role = pgrls::Role::create(\"editor\");` then `to = EDITOR`"
    )
}
