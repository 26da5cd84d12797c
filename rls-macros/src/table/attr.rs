//! Attributes -> [`Table`]: one function per attribute. Mistakes in one attribute are
//! reported and the rest of the struct is still read, so that one build shows them all.

use super::ast::{Check, Clause, ColumnDefault, Field, Grant, Index, Policy, Reference, Table};
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::expr::{self, Columns};
use crate::helpers::snake_case;
use crate::roles::{self, RoleRef};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use rls_rules::{Command, FkAction, Identity, PolicyKind};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields};

const TABLE_KEYS: &[&str] = &[
    "name",
    "schema",
    "force_rls",
    "enable_rls",
    "disable_rls",
    "policy_indexes",
    "renamed_from",
];
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
const CRUD_KEYS: &[&str] = &["role", "read", "modify"];
const POLICY_KEYS: &[&str] = &["name", "as", "for", "to", "using", "with_check"];
const GRANT_KEYS: &[&str] = &["to", "privileges"];
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
        fields: Vec::new(),
        primary_key: Vec::new(),
        primary_key_attrs: Vec::new(),
        primary_key_attr_errors: false,
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
        policies: Vec::new(),
        grants: Vec::new(),
    };
    if table.generic {
        errors.at(&input.generics, "#[derive(Table)] needs a struct without generic parameters: a table has one fixed set of column types");
    }
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => {
                table.fields = named.named.iter().map(|f| field(f, errors)).collect();
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
    let columns: Vec<(String, String)> = table
        .fields
        .iter()
        .map(|f| (f.ident.unraw().to_string(), f.sql.clone()))
        .collect();

    let mut table_args = TableArgs::new();
    for (index, attr) in input.attrs.iter().enumerate() {
        let Some(kind) = attr.path().get_ident().map(ToString::to_string) else {
            continue;
        };
        match kind.as_str() {
            "table" => table_args.parse(attr, errors),
            "crud_policy" => crud_policy(&mut table, attr, index, &columns, errors),
            "policy" => policy(&mut table, attr, index, &columns, errors),
            "grant" => grant(&mut table, attr, errors),
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
                ("renamed_from", Arg::Pair(k, v)) => {
                    let value = args::string(errors, k, v).map(|s| s.value());
                    self.renamed_from.set(errors, k, value);
                }
                ("policy_indexes", Arg::Pair(k, v)) => {
                    let value = args::boolean(errors, k, v);
                    self.policy_indexes.set(errors, k, value);
                }
                _ => args::unknown(errors, "table", &arg, TABLE_KEYS),
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
    }
}

/// The key of an argument the caller has matched by its word.
fn key(arg: &Arg) -> &syn::Ident {
    arg.key().expect("matched by its key")
}

/// `#[column(...)]` on one field, possibly split over several attributes.
fn field(f: &syn::Field, errors: &mut Errors) -> Field {
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

fn crud_policy(
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
    Clause {
        ops: expr::parse(errors, columns, value),
        key: key.span(),
    }
}

fn policy(
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
            tokens: quote!(::rls::Role::PUBLIC),
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

fn grant(table: &mut Table, attr: &Attribute, errors: &mut Errors) {
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
            Arg::Bare(e) if body.is_none() => body = Some(expr::parse(errors, columns, e)),
            _ => args::unknown(errors, "check", &arg, CHECK_KEYS),
        }
    }
    match body {
        Some(ops) => table.checks.push(Check {
            name: name.get(),
            ops,
        }),
        None if errors.since(checkpoint) => {}
        None => errors.at(attr, "#[check] needs a condition: #[check(budget >= 0)]"),
    }
}
