//! `#[derive(Table)]`, in three steps as serde_derive does it: `attr` (with `column` for the
//! fields and `policy` for policies and grants) reads the attributes into the typed model of
//! `ast`, `check` applies the rules, `expand` writes the code.
//! Every error of the first two steps is collected and reported together.

mod allow_lint;
mod ast;
mod attr;
mod check;
mod column;
mod expand;
mod foreign_key;
mod lookup;
mod policy;

use crate::crate_path;
use crate::errors::Errors;
use proc_macro2::TokenStream;

pub fn derive(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let table = attr::parse(&input, &mut errors);
    check::check(&table, &mut errors);
    let krate = table.krate.clone();
    crate_path::rewrite(expand::table(&table, errors), krate.as_ref())
}
