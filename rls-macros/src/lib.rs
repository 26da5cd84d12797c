//! `#[derive(Table)]` and `#[derive(PgEnum)]`. This crate only reads attributes, checks them
//! against the struct and emits code that builds `rls-core`'s model as constants; it writes
//! no SQL.

#![warn(missing_docs)]

mod args;
mod crate_path;
mod errors;
mod expr;
mod helpers;
mod pg_enum;
mod roles;
mod similar;
mod table;

use proc_macro::TokenStream;

/// See the crate `pgrls` for the attribute reference.
#[proc_macro_derive(
    Table,
    attributes(
        table,
        column,
        crud_policy,
        policy,
        grant,
        index,
        unique,
        check,
        primary_key,
        allow_lint,
        lookup,
        foreign_key
    )
)]
pub fn derive_table(input: TokenStream) -> TokenStream {
    table::derive(input.into()).into()
}

/// A PostgreSQL enum type from a Rust enum of unit variants.
#[proc_macro_derive(PgEnum, attributes(pg_enum))]
pub fn derive_pg_enum(input: TokenStream) -> TokenStream {
    pg_enum::derive(input.into()).into()
}

#[cfg(test)]
mod expansion_tests;
