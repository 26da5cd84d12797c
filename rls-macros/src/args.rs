//! The common shape of every attribute: `#[attr(key, key = value, positional, ...)]`.

use crate::errors::Errors;
use crate::similar;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Token};

pub enum Arg {
    /// `key = value`; keys may be Rust keywords (`as`, `for`).
    Pair(Ident, Expr),
    /// `key`, or a positional expression (`#[check(a > 0)]`, `#[primary_key(a, b)]`).
    Bare(Expr),
}

impl Arg {
    /// The word of a `key` or `key = value` argument.
    pub fn key(&self) -> Option<&Ident> {
        match self {
            Arg::Pair(key, _) => Some(key),
            Arg::Bare(e) => ident_of(e),
        }
    }

    /// The key as written without `r#`, or "" for a positional expression.
    pub fn word(&self) -> String {
        self.key()
            .map(|k| k.unraw().to_string())
            .unwrap_or_default()
    }
}

/// The value of one key, across the attributes it may appear in (`#[table]` and `#[column]`
/// may be written several times): the first `key = value` sets it, a second is an error at
/// the second key rather than silently winning.
pub struct Attr<T> {
    attr: &'static str,
    key: &'static str,
    seen: bool,
    value: Option<T>,
}

impl<T> Attr<T> {
    pub fn none(attr: &'static str, key: &'static str) -> Self {
        Attr {
            attr,
            key,
            seen: false,
            value: None,
        }
    }

    /// Records the value written at `key`; `None` when the value was wrong (and reported),
    /// which still counts as the key being written.
    pub fn set(&mut self, errors: &mut Errors, key: &Ident, value: Option<T>) {
        if self.seen {
            errors.at(
                key,
                format!(
                    "duplicate `{}` in #[{}]: write it once",
                    self.key, self.attr
                ),
            );
            return;
        }
        self.seen = true;
        self.value = value;
    }

    pub fn get(self) -> Option<T> {
        self.value
    }
}

impl Attr<Span> {
    /// A flag (`#[column(unique)]`), remembered by where it was written.
    pub fn flag(&mut self, errors: &mut Errors, key: &Ident) {
        self.set(errors, key, Some(key.span()));
    }
}

pub fn ident_of(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

fn parse_arg(input: ParseStream<'_>) -> syn::Result<Arg> {
    if input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
        let key = Ident::parse_any(input)?;
        input.parse::<Token![=]>()?;
        Ok(Arg::Pair(key, input.parse()?))
    } else if input.peek(Ident::peek_any)
        && (input.peek2(Token![,]) || input.peek2(syn::parse::End))
    {
        let key = Ident::parse_any(input)?;
        Ok(Arg::Bare(syn::parse_quote!(#key)))
    } else {
        Ok(Arg::Bare(input.parse()?))
    }
}

/// Parses one attribute's arguments; a syntax error is recorded and yields no arguments.
pub fn parse(attr: &Attribute, errors: &mut Errors) -> Vec<Arg> {
    let parser = |input: ParseStream<'_>| {
        Punctuated::<Arg, Token![,]>::parse_terminated_with(input, parse_arg)
    };
    match &attr.meta {
        syn::Meta::List(list) => match parser.parse2(list.tokens.clone()) {
            Ok(args) => args.into_iter().collect(),
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        },
        _ => {
            let name = attr
                .path()
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            errors.at(attr, format!("expected arguments: write #[{name}(...)]"));
            Vec::new()
        }
    }
}

/// Reports an argument whose key is not one of `known`, suggesting the closest.
pub fn unknown(errors: &mut Errors, attr: &str, arg: &Arg, known: &[&str]) {
    match arg.key() {
        Some(key) if known.contains(&key.unraw().to_string().as_str()) => {
            let word = key.unraw().to_string();
            match arg {
                Arg::Pair(..) => errors.at(
                    key,
                    format!("`{word}` takes no value: write #[{attr}({word})]"),
                ),
                Arg::Bare(_) => errors.at(
                    key,
                    format!("`{word}` needs a value: write #[{attr}({word} = ...)]"),
                ),
            }
        }
        Some(key) => {
            let word = key.unraw().to_string();
            errors.at(
                key,
                format!(
                    "unknown argument `{word}` in #[{attr}]{}\nexpected one of: {}",
                    similar::hint(&word, known.iter().copied()),
                    known.join(", ")
                ),
            );
        }
        None => errors.at(
            arg_tokens(arg),
            format!(
                "unexpected argument in #[{attr}]; expected one of: {}",
                known.join(", ")
            ),
        ),
    }
}

pub fn arg_tokens(arg: &Arg) -> proc_macro2::TokenStream {
    match arg {
        Arg::Pair(k, v) => quote::quote!(#k = #v),
        Arg::Bare(e) => quote::quote!(#e),
    }
}

/// A string literal value (`name = "todos"`).
pub fn string(errors: &mut Errors, key: &Ident, value: &Expr) -> Option<syn::LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.clone()),
        _ => {
            errors.at(value, format!("`{key}` takes a string: {key} = \"...\""));
            None
        }
    }
}

/// A `false`/`true` value.
pub fn boolean(errors: &mut Errors, key: &Ident, value: &Expr) -> Option<bool> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Some(b.value),
        _ => {
            errors.at(value, format!("`{key}` takes `true` or `false`"));
            None
        }
    }
}

/// One word out of `choices` (`for = select`).
pub fn choice<'a>(
    errors: &mut Errors,
    key: &Ident,
    value: &Expr,
    choices: &[&'a str],
) -> Option<&'a str> {
    let word = ident_of(value).map(|i| i.unraw().to_string());
    match word
        .as_deref()
        .and_then(|w| choices.iter().find(|c| **c == w))
    {
        Some(c) => Some(c),
        None => {
            let hint = word
                .as_deref()
                .map(|w| similar::hint(w, choices.iter().copied()))
                .unwrap_or_default();
            errors.at(
                value,
                format!("`{key}` takes one of: {}{hint}", choices.join(", ")),
            );
            None
        }
    }
}

/// `a` or `[a, b]`.
pub fn list(value: &Expr) -> Vec<&Expr> {
    match value {
        Expr::Array(a) => a.elems.iter().collect(),
        other => vec![other],
    }
}
