//! The struct's attributes -> [`Table`]: one function per attribute (the fields' `#[column]`
//! in `column`, the policies and grants in `policy`). Mistakes in one attribute are reported
//! and the rest of the struct is still read, so that one build shows them all.

use super::ast::{Check, Field, Index, Table};
use super::{allow_lint, column, foreign_key, lookup, policy};
use crate::args::{self, Arg, Attr};
use crate::crate_path;
use crate::errors::Errors;
use crate::expr::{self, Columns};
use crate::helpers::snake_case;
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Fields};

const TABLE_KEYS: &[&str] = &[
    "name",
    "schema",
    "force_rls",
    "enable_rls",
    "disable_rls",
    "policy_indexes",
    "renamed_from",
    "existing",
    "distribute_by",
    "colocate_with",
    "reference",
    "crate",
];
const INDEX_KEYS: &[&str] = &["columns", "unique", "name"];
const CHECK_KEYS: &[&str] = &["name"];

pub fn parse(input: &DeriveInput, errors: &mut Errors) -> Table {
    let mut table = Table {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        generic: !input.generics.params.is_empty(),
        name: snake_case(&input.ident.unraw().to_string()),
        schema: "public".into(),
        force_rls: false,
        enable_rls: false,
        disable_rls: None,
        renamed_from: None,
        policy_indexes: true,
        existing: None,
        distribute_by: None,
        colocate_with: None,
        reference: None,
        krate: None,
        fields: Vec::new(),
        primary_key: Vec::new(),
        primary_key_attrs: Vec::new(),
        primary_key_attr_errors: false,
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
        policies: Vec::new(),
        grants: Vec::new(),
        allowed_lints: Vec::new(),
        lookups: Vec::new(),
        composite_keys: Vec::new(),
    };
    if table.generic {
        errors.at(&input.generics, "#[derive(Table)] needs a struct without generic parameters: a table has one fixed set of column types");
    }
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => {
                table.fields = named
                    .named
                    .iter()
                    .map(|f| column::field(f, errors))
                    .collect();
            }
            _ => errors.at(
                &input.ident,
                "#[derive(Table)] needs a struct with named fields, one per column",
            ),
        },
        _ => errors.at(
            &input.ident,
            "#[derive(Table)] works on structs: one struct per table, one named field per column",
        ),
    }
    let columns: Vec<(String, String, syn::Type)> = table
        .fields
        .iter()
        .map(|f| (f.ident.unraw().to_string(), f.sql.clone(), f.ty.clone()))
        .collect();

    let mut table_args = TableArgs::new();
    for (index, attr) in input.attrs.iter().enumerate() {
        let Some(kind) = attr.path().get_ident().map(ToString::to_string) else {
            continue;
        };
        match kind.as_str() {
            "table" => table_args.parse(attr, errors),
            "crud_policy" => policy::crud_policy(&mut table, attr, index, &columns, errors),
            "policy" => policy::policy(&mut table, attr, index, &columns, errors),
            "grant" => policy::grant(&mut table, attr, errors),
            "allow_lint" => allow_lint::parse(&mut table, attr, errors),
            "index" => index_attr(&mut table, attr, &columns, errors),
            "unique" => {
                if let Some(cols) = column_list(attr, "unique", &columns, errors) {
                    table.uniques.push(cols);
                }
            }
            "primary_key" => {
                table.primary_key_attrs.push(attr.to_token_stream());
                match column_list(attr, "primary_key", &columns, errors) {
                    // A second #[primary_key] is refused by `check`; the first one stands.
                    Some(cols) if table.primary_key.is_empty() => table.primary_key = cols,
                    Some(_) => {}
                    None => table.primary_key_attr_errors = true,
                }
            }
            "check" => check(&mut table, attr, &columns, errors),
            "lookup" => lookup::parse(&mut table, attr, &columns, errors),
            "foreign_key" => foreign_key::parse(&mut table, attr, &columns, errors),
            _ => {}
        }
    }
    table_args.apply(&mut table);

    if table.primary_key_attrs.is_empty() {
        table.primary_key = marked(&table, |f| f.primary_key.is_some());
    }
    // Column-level keys and indexes follow the struct-level ones.
    for sql in marked(&table, |f| f.unique) {
        table.uniques.push(vec![sql]);
    }
    for sql in marked(&table, |f| f.index) {
        table.indexes.push(Index {
            attr: None,
            name: None,
            columns: vec![sql],
            unique: false,
        });
    }
    table
}

/// The SQL names of the fields that `is` picks.
fn marked(table: &Table, is: impl Fn(&Field) -> bool) -> Vec<String> {
    table
        .fields
        .iter()
        .filter(|f| is(f))
        .map(|f| f.sql.clone())
        .collect()
}

/// `#[table(...)]`, which may be split over several attributes.
struct TableArgs {
    name: Attr<String>,
    schema: Attr<String>,
    force_rls: Attr<Span>,
    enable_rls: Attr<Span>,
    disable_rls: Attr<Span>,
    renamed_from: Attr<String>,
    policy_indexes: Attr<bool>,
    existing: Attr<Span>,
    existing_error: bool,
    distribute_by: Attr<syn::Ident>,
    colocate_with: Attr<syn::LitStr>,
    reference: Attr<Span>,
    krate: Attr<syn::Path>,
}

impl TableArgs {
    fn new() -> Self {
        const T: &str = "table";
        TableArgs {
            name: Attr::none(T, "name"),
            schema: Attr::none(T, "schema"),
            force_rls: Attr::none(T, "force_rls"),
            enable_rls: Attr::none(T, "enable_rls"),
            disable_rls: Attr::none(T, "disable_rls"),
            renamed_from: Attr::none(T, "renamed_from"),
            policy_indexes: Attr::none(T, "policy_indexes"),
            existing: Attr::none(T, "existing"),
            existing_error: false,
            distribute_by: Attr::none(T, "distribute_by"),
            colocate_with: Attr::none(T, "colocate_with"),
            reference: Attr::none(T, "reference"),
            krate: Attr::none(T, "crate"),
        }
    }

    fn parse(&mut self, attr: &Attribute, errors: &mut Errors) {
        for arg in args::parse(attr, errors) {
            match (arg.word().as_str(), &arg) {
                ("name", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    self.name.set(errors, k, value);
                }
                ("schema", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    self.schema.set(errors, k, value);
                }
                ("force_rls", Arg::Bare(_)) => self.force_rls.flag(errors, key(&arg)),
                ("enable_rls", Arg::Bare(_)) => self.enable_rls.flag(errors, key(&arg)),
                ("disable_rls", Arg::Bare(_)) => self.disable_rls.flag(errors, key(&arg)),
                ("existing", Arg::Bare(_)) => self.existing.flag(errors, key(&arg)),
                ("reference", Arg::Bare(_)) => self.reference.flag(errors, key(&arg)),
                ("distribute_by", Arg::Pair(k, v)) => {
                    let value = args::ident_of(v).cloned();
                    if value.is_none() {
                        errors.at(v, "`distribute_by` takes the field Citus shards the table by: `distribute_by = org_id`");
                    }
                    self.distribute_by.set(errors, k, value);
                }
                ("colocate_with", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v);
                    self.colocate_with.set(errors, k, value);
                }
                ("renamed_from", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    self.renamed_from.set(errors, k, value);
                }
                ("crate", Arg::Pair(k, v)) => {
                    let value = crate_path::parse(errors, k, v);
                    self.krate.set(errors, k, value);
                }
                ("policy_indexes", Arg::Pair(k, v)) => {
                    let value = args::boolean(errors, k, v);
                    self.policy_indexes.set(errors, k, value);
                }
                (word, _) => {
                    // `existing = true`: whether a key is needed is unknown, so it is not asked.
                    self.existing_error |= word == "existing";
                    args::unknown(errors, "table", &arg, TABLE_KEYS)
                }
            }
        }
    }

    fn apply(self, table: &mut Table) {
        if let Some(name) = self.name.get() {
            table.name = name;
        }
        if let Some(schema) = self.schema.get() {
            table.schema = schema;
        }
        table.force_rls = self.force_rls.get().is_some();
        table.enable_rls = self.enable_rls.get().is_some();
        table.disable_rls = self.disable_rls.get();
        table.renamed_from = self.renamed_from.get();
        table.policy_indexes = self.policy_indexes.get().unwrap_or(true);
        table.existing = self.existing.get();
        table.distribute_by = self.distribute_by.get();
        table.colocate_with = self.colocate_with.get();
        table.reference = self.reference.get();
        table.krate = self.krate.get();
        table.primary_key_attr_errors |= self.existing_error;
    }
}
/// The key of an argument the caller has matched by its word.
pub(super) fn key(arg: &Arg) -> &syn::Ident {
    arg.key().expect("matched by its key")
}
/// `#[unique(a, b)]`, `#[primary_key(a, b)]`: `None` after an error.
fn column_list(
    attr: &Attribute,
    kind: &str,
    columns: Columns<'_>,
    errors: &mut Errors,
) -> Option<Vec<String>> {
    let checkpoint = errors.checkpoint();
    let cols: Vec<String> = args::parse(attr, errors)
        .iter()
        .filter_map(|a| match a {
            Arg::Bare(e) => expr::column(errors, columns, e).map(String::from),
            Arg::Pair(k, _) => {
                errors.at(k, format!("#[{kind}] takes column names: #[{kind}(a, b)]"));
                None
            }
        })
        .collect();
    if errors.since(checkpoint) {
        return None;
    }
    if cols.is_empty() {
        errors.at(
            attr,
            format!("#[{kind}] needs at least one column: #[{kind}(a, b)]"),
        );
        return None;
    }
    Some(cols)
}
fn index_attr(table: &mut Table, attr: &Attribute, columns: Columns<'_>, errors: &mut Errors) {
    const I: &str = "index";
    let checkpoint = errors.checkpoint();
    let mut cols = Attr::none(I, "columns");
    let mut unique = Attr::none(I, "unique");
    let mut name = Attr::none(I, "name");
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("columns", Arg::Pair(k, v)) => {
                let value: Vec<String> = args::list(v)
                    .into_iter()
                    .filter_map(|e| expr::column(errors, columns, e).map(String::from))
                    .collect();
                cols.set(errors, k, Some(value));
            }
            ("unique", Arg::Bare(_)) => unique.flag(errors, key(&arg)),
            ("name", Arg::Pair(k, v)) => {
                let value = args::string(errors, k, v).map(|s| s.value());
                name.set(errors, k, value);
            }
            _ => args::unknown(errors, I, &arg, INDEX_KEYS),
        }
    }
    let columns = cols.get().unwrap_or_default();
    if errors.since(checkpoint) {
        return;
    }
    if columns.is_empty() {
        errors.at(attr, "#[index] needs columns: #[index(columns = [a, b])]");
        return;
    }
    table.indexes.push(Index {
        attr: Some(attr.to_token_stream()),
        name: name.get(),
        columns,
        unique: unique.get().is_some(),
    });
}

fn check(table: &mut Table, attr: &Attribute, columns: Columns<'_>, errors: &mut Errors) {
    let checkpoint = errors.checkpoint();
    let mut name = Attr::none("check", "name");
    let mut body = None;
    for arg in args::parse(attr, errors) {
        match &arg {
            Arg::Pair(k, v) if k == "name" => {
                let value = args::string(errors, k, v).map(|s| s.value());
                name.set(errors, k, value);
            }
            Arg::Bare(e) if body.is_none() => {
                body = Some(expr::parse(errors, columns, expr::Place::Check, e).ops)
            }
            _ => args::unknown(errors, "check", &arg, CHECK_KEYS),
        }
    }
    match body {
        Some(ops) => table.checks.push(Check {
            attr: attr.to_token_stream(),
            name: name.get(),
            ops,
        }),
        None if errors.since(checkpoint) => {}
        None => errors.at(attr, "#[check] needs a condition: #[check(budget >= 0)]"),
    }
}
