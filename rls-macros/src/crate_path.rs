//! `#[table(crate = "...")]` and `#[pg_enum(crate = "...")]`: the path of the `pgrls` crate
//! for a user who renamed the dependency (`db = { package = "pgrls", ... }`), as serde's
//! `#[serde(crate = "...")]` does.
//!
//! The expansions are written against `::pgrls` and, when the attribute names another path,
//! rewritten by [`rewrite`] in one pass at the end. Threading the path through every `quote!`
//! would touch each of the sixty sites that name the crate; the rewrite keeps them readable
//! and cannot miss one.

use crate::args;
use crate::errors::Errors;
use proc_macro2::{Delimiter, Group, Ident, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::Expr;

/// The name the expansions use for the crate.
const CRATE: &str = "pgrls";

/// Words after which a `::` opens a path from the crate root (`impl ::pgrls::Table`,
/// `<T as ::pgrls::ColumnType>`), rather than continuing a path (`a::pgrls`).
const KEYWORDS: &[&str] = &[
    "as", "const", "dyn", "else", "for", "impl", "in", "let", "move", "mut", "pub", "ref",
    "return", "static", "type", "unsafe", "use", "where",
];

/// Reads `crate = "path"`; reports a value that is not a string holding a path.
pub fn parse(errors: &mut Errors, key: &syn::Ident, value: &Expr) -> Option<syn::Path> {
    let lit = args::string(errors, key, value)?;
    match lit.parse::<syn::Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            errors.at(
                &lit,
                "`crate` takes the path of the pgrls crate as a string: crate = \"db\" when Cargo.toml says `db = { package = \"pgrls\", ... }`",
            );
            None
        }
    }
}

/// `tokens` with every path that starts at `::pgrls` starting at `krate` instead.
pub fn rewrite(tokens: TokenStream, krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(krate) => replace(tokens, &krate.to_token_stream()),
        None => tokens,
    }
}

fn replace(tokens: TokenStream, krate: &TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < trees.len() {
        if starts_crate_path(&trees, i) {
            out.extend(krate.clone());
            i += 3;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), replace(g.stream(), krate));
                group.set_span(g.span());
                out.extend([TokenTree::Group(group)]);
            }
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    out
}

/// Whether `trees[i..]` is `:: pgrls` at the start of a path.
fn starts_crate_path(trees: &[TokenTree], i: usize) -> bool {
    let colon = |t: Option<&TokenTree>, spacing: Spacing| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == spacing);
    let is_crate = matches!(trees.get(i + 2), Some(TokenTree::Ident(id)) if id == CRATE);
    let opens_path = match i.checked_sub(1).map(|j| &trees[j]) {
        None => true,
        // `&'a ::pgrls::X`: a lifetime is a `'` and an identifier.
        Some(TokenTree::Ident(word)) => is_keyword(word) || is_lifetime(trees, i - 1),
        // `<`, `&`, `=`, `,`, a type's `:` and the like: what follows is a new path.
        Some(TokenTree::Punct(_) | TokenTree::Literal(_)) => true,
        // `a::pgrls` and `T<U>::pgrls` continue one.
        Some(TokenTree::Group(g)) => g.delimiter() == Delimiter::None,
    };
    opens_path
        && colon(trees.get(i), Spacing::Joint)
        && colon(trees.get(i + 1), Spacing::Alone)
        && is_crate
}

fn is_lifetime(trees: &[TokenTree], ident: usize) -> bool {
    let before = ident.checked_sub(1).map(|j| &trees[j]);
    matches!(before, Some(TokenTree::Punct(p)) if p.as_char() == '\'')
}

fn is_keyword(word: &Ident) -> bool {
    KEYWORDS.iter().any(|k| word == k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn rewritten(tokens: TokenStream, krate: &str) -> String {
        let krate: syn::Path = syn::parse_str(krate).unwrap();
        rewrite(tokens, Some(&krate)).to_string()
    }

    #[test]
    fn paths_from_the_crate_root_move() {
        let tokens = quote! {
            impl ::pgrls::Table for T {
                const TABLE: &'static ::pgrls::TableDef = &{ use ::pgrls::__private::*; X };
            }
            let x: <i64 as ::pgrls::ColumnType>::T = (::pgrls::f)(::pgrls::g);
            let y: ::pgrls::Y = 1;
            fn f<'r>(row: &'r ::pgrls::Row) {}
        };
        let out = rewritten(tokens, "db");
        assert!(!out.contains("pgrls"), "{out}");
        assert_eq!(out.matches("db ::").count(), 8, "{out}");
    }

    #[test]
    fn other_paths_stay() {
        let tokens = quote!(a::pgrls::X; pgrls::Y; ::pgrls_other::Z; ::core::pgrls; f()::pgrls);
        assert_eq!(rewritten(tokens.clone(), "db"), tokens.to_string());
    }

    #[test]
    fn a_path_with_segments() {
        let out = rewritten(quote!(impl ::pgrls::Table for T {}), "::deps::pgrls");
        assert_eq!(out, quote!(impl ::deps::pgrls::Table for T {}).to_string());
    }
}
