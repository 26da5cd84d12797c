//! `#[derive(Table)]`: attributes -> a checked description of the table -> `expand`.

use crate::args::{self, Arg};
use crate::errors::Errors;
use crate::expand;
use crate::expr;
use crate::roles::{self, RoleRef};
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, Ident, Type};

pub struct Table {
    pub ident: Ident,
    pub vis: syn::Visibility,
    /// Generic parameters were refused: emit nothing beyond the errors.
    pub generic: bool,
    pub name: String,
    pub schema: String,
    pub force_rls: bool,
    pub enable_rls: bool,
    pub disable_rls: bool,
    pub renamed_from: Option<String>,
    pub policy_indexes: bool,
    pub fields: Vec<Field>,
    pub primary_key: Vec<String>,
    pub uniques: Vec<Vec<String>>,
    pub checks: Vec<(Option<String>, Vec<TokenStream>)>,
    pub indexes: Vec<Index>,
    pub policies: Vec<Policy>,
    pub grants: Vec<(RoleRef, Vec<&'static str>)>,
}

pub struct Field {
    pub ident: Ident,
    pub vis: syn::Visibility,
    pub ty: Type,
    pub sql: String,
    pub primary_key: bool,
    pub unique: bool,
    pub index: bool,
    pub identity: Option<&'static str>,
    pub default: Option<TokenStream>,
    pub policy_index: bool,
    pub references: Option<Reference>,
    pub sql_type: Option<syn::LitStr>,
    pub renamed_from: Option<String>,
    /// Where `primary_key` and `default` were written, for errors.
    pub primary_key_span: Option<Span>,
    pub default_span: Option<Span>,
}

pub struct Reference {
    /// `Project::id`
    pub path: syn::ExprPath,
    pub on_delete: &'static str,
    pub on_update: &'static str,
}

pub struct Index {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub unique: bool,
}

pub struct Policy {
    /// `None`: a crud_policy policy, named from its roles.
    pub name: Option<String>,
    pub restrictive: bool,
    pub command: &'static str,
    pub roles: Vec<RoleRef>,
    pub using: Option<Vec<TokenStream>>,
    pub with_check: Option<Vec<TokenStream>>,
    /// The name or roles as written, for errors.
    pub span: Span,
    /// Which attribute of the struct declared it (a crud_policy declares up to four).
    pub attr: usize,
}

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
const FK_ACTIONS: &[&str] = &[
    "no_action",
    "restrict",
    "cascade",
    "set_null",
    "set_default",
];
const COMMANDS: &[&str] = &["all", "select", "insert", "update", "delete"];

pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let table = parse(&input, &mut errors);
    expand::table(&table, errors)
}

fn parse(input: &DeriveInput, errors: &mut Errors) -> Table {
    let mut table = Table {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        generic: !input.generics.params.is_empty(),
        name: snake_case(&input.ident.unraw().to_string()),
        schema: "public".into(),
        force_rls: false,
        enable_rls: false,
        disable_rls: false,
        renamed_from: None,
        policy_indexes: true,
        fields: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
        policies: Vec::new(),
        grants: Vec::new(),
    };
    if !input.generics.params.is_empty() {
        errors.at(&input.generics, "#[derive(Table)] needs a struct without generic parameters: a table has one fixed set of column types");
    }
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => {
                for f in &named.named {
                    table.fields.push(field(f, errors));
                }
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
    for (i, f) in table.fields.iter().enumerate() {
        if columns[..i].iter().any(|(_, sql)| *sql == f.sql) {
            errors.at(&f.ident, format!("two fields map to the column \"{}\": give one another #[column(rename = \"...\")]", f.sql));
        }
    }
    let mut primary_key_attr = false;
    for (attr_index, attr) in input.attrs.iter().enumerate() {
        let Some(kind) = attr.path().get_ident().map(ToString::to_string) else {
            continue;
        };
        let before = errors.count();
        match kind.as_str() {
            "table" => table_attr(&mut table, attr, errors),
            "crud_policy" => crud_policy(&mut table, attr, attr_index, &columns, errors),
            "policy" => policy(&mut table, attr, attr_index, &columns, errors),
            "grant" => grant(&mut table, attr, errors),
            "index" => index(&mut table, attr, &columns, errors),
            "unique" | "primary_key" => {
                let cols: Vec<String> = args::parse(attr, errors)
                    .iter()
                    .filter_map(|a| match a {
                        Arg::Bare(e) => expr::column(errors, &columns, e).map(String::from),
                        Arg::Pair(k, _) => {
                            errors.at(k, format!("#[{kind}] takes column names: #[{kind}(a, b)]"));
                            None
                        }
                    })
                    .collect();
                if cols.is_empty() {
                    if errors.count() == before {
                        errors.at(
                            attr,
                            format!("#[{kind}] needs at least one column: #[{kind}(a, b)]"),
                        );
                    }
                } else if kind == "unique" {
                    table.uniques.push(cols);
                } else if primary_key_attr {
                    errors.at(
                        attr,
                        "the primary key is declared twice: keep one #[primary_key(...)]",
                    );
                } else {
                    table.primary_key = cols;
                    primary_key_attr = true;
                }
            }
            "check" => check(&mut table, attr, &columns, errors),
            _ => {}
        }
    }

    let pk_fields: Vec<&Field> = table.fields.iter().filter(|f| f.primary_key).collect();
    let pk_span = |f: &Field| f.primary_key_span.unwrap_or_else(|| f.ident.span());
    if let (Some(first), true) = (pk_fields.first(), primary_key_attr) {
        errors.span(pk_span(first), "the primary key is declared twice: use #[column(primary_key)] on one field or #[primary_key(a, b)] on the struct, not both");
    } else if !pk_fields.is_empty() {
        if let Some(second) = pk_fields.get(1) {
            errors.span(pk_span(second), "several fields are marked #[column(primary_key)]: for a composite key write #[primary_key(a, b)] on the struct");
        }
        table.primary_key = pk_fields.iter().map(|f| f.sql.clone()).collect();
    }
    // After another error (a misspelt `primary_key`, say) this would only repeat it.
    if table.primary_key.is_empty() && !table.fields.is_empty() && errors.is_empty() {
        errors.span(
            input.ident.span(),
            format!("table `{}` has no primary key: mark its key field #[column(primary_key)], or write #[primary_key(a, b)] on the struct for a composite key", table.name),
        );
    }
    for f in table.fields.iter().filter(|f| f.unique) {
        table.uniques.push(vec![f.sql.clone()]);
    }
    for f in table.fields.iter().filter(|f| f.index) {
        table.indexes.push(Index {
            name: None,
            columns: vec![f.sql.clone()],
            unique: false,
        });
    }
    if table.disable_rls && !table.policies.is_empty() {
        errors.span(
            table.policies[0].span,
            "policies need row-level security, and the table says #[table(disable_rls)]: remove `disable_rls` or the policies",
        );
    }
    let mut names: Vec<String> = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    for p in &table.policies {
        let name = policy_name(p);
        // One error per attribute, though a crud_policy declares up to four policies.
        if names.contains(&name) && !reported.contains(&p.attr) {
            reported.push(p.attr);
            let fix = if p.name.is_some() {
                "give one of them another name"
            } else {
                "merge the #[crud_policy] attributes for these roles into one"
            };
            errors.span(
                p.span,
                format!(
                    "two policies on table `{}` are named \"{name}\": {fix}",
                    table.name
                ),
            );
        }
        names.push(name);
    }
    table
}

/// The name PostgreSQL will know the policy by (custom roles by their constant's path).
fn policy_name(p: &Policy) -> String {
    match &p.name {
        Some(n) => n.clone(),
        None => {
            let roles: Vec<&str> = p.roles.iter().map(|r| r.key.as_str()).collect();
            format!("crud-{}-policy-{}", roles.join("-"), p.command)
        }
    }
}

fn field(f: &syn::Field, errors: &mut Errors) -> Field {
    let ident = f.ident.clone().expect("named field");
    let mut out = Field {
        vis: f.vis.clone(),
        sql: ident.unraw().to_string(),
        ident,
        ty: f.ty.clone(),
        primary_key: false,
        unique: false,
        index: false,
        identity: None,
        default: None,
        policy_index: true,
        references: None,
        sql_type: None,
        renamed_from: None,
        primary_key_span: None,
        default_span: None,
    };
    let mut on_delete = None;
    let mut on_update = None;
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("column")) {
        for arg in args::parse(attr, errors) {
            let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
            match (key.as_str(), &arg) {
                ("primary_key", Arg::Bare(e)) => {
                    out.primary_key = true;
                    out.primary_key_span = Some(e.span());
                }
                ("unique", Arg::Bare(_)) => out.unique = true,
                ("index", Arg::Bare(_)) => out.index = true,
                ("identity", Arg::Bare(_)) => out.identity = Some("ByDefault"),
                ("identity", Arg::Pair(k, v)) => {
                    out.identity = args::choice(errors, k, v, &["by_default", "always"])
                        .map(|c| if c == "always" { "Always" } else { "ByDefault" });
                }
                ("rename", Arg::Pair(k, v)) => {
                    if let Some(s) = args::string(errors, k, v) {
                        out.sql = s.value();
                    }
                }
                ("sql_type", Arg::Pair(k, v)) => {
                    out.sql_type = args::string(errors, k, v).filter(|s| {
                        let ok = !s.value().trim().is_empty();
                        if !ok {
                            errors.at(
                                s,
                                "`sql_type` needs a PostgreSQL type: sql_type = \"varchar(80)\"",
                            );
                        }
                        ok
                    });
                }
                ("renamed_from", Arg::Pair(k, v)) => {
                    out.renamed_from = args::string(errors, k, v).map(|s| s.value());
                }
                ("policy_index", Arg::Pair(k, v)) => {
                    out.policy_index = args::boolean(errors, k, v).unwrap_or(true)
                }
                ("default", Arg::Pair(k, v)) => {
                    out.default = default(errors, v);
                    out.default_span = Some(k.span());
                }
                ("references", Arg::Pair(_, v)) => out.references = reference(errors, v),
                ("on_delete", Arg::Pair(k, v)) => {
                    on_delete = args::choice(errors, k, v, FK_ACTIONS).map(|a| (a, k.clone()))
                }
                ("on_update", Arg::Pair(k, v)) => {
                    on_update = args::choice(errors, k, v, FK_ACTIONS).map(|a| (a, k.clone()))
                }
                (k, Arg::Pair(key, _)) if ["primary_key", "unique", "index"].contains(&k) => {
                    errors.at(key, format!("`{k}` takes no value: write #[column({k})]"));
                }
                (k, Arg::Bare(_)) if COLUMN_KEYS.contains(&k) => {
                    errors.at(
                        args::arg_tokens(&arg),
                        format!("`{k}` needs a value: write #[column({k} = ...)]"),
                    );
                }
                _ => args::unknown(errors, "column", &arg, COLUMN_KEYS),
            }
        }
    }
    match &mut out.references {
        Some(r) => {
            r.on_delete = on_delete.map_or("NoAction", |(a, _)| action(a));
            r.on_update = on_update.map_or("NoAction", |(a, _)| action(a));
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
    if let (Some(_), Some(span)) = (out.identity, out.default_span) {
        errors.span(
            span,
            "an identity column cannot also have a default: keep `identity` or `default`",
        );
    }
    out
}

fn action(a: &str) -> &'static str {
    match a {
        "restrict" => "Restrict",
        "cascade" => "Cascade",
        "set_null" => "SetNull",
        "set_default" => "SetDefault",
        _ => "NoAction",
    }
}

/// `default = false | 3 | "x" | now() | auth_user_id() | sql("...")` as `DefaultExpr` tokens.
fn default(errors: &mut Errors, value: &Expr) -> Option<TokenStream> {
    if let Expr::Call(call) = value {
        let name = match &*call.func {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        return match (name.as_deref(), call.args.len()) {
            (Some("now"), 0) => Some(quote::quote!(DefaultExpr::Now)),
            (Some("auth_user_id"), 0) => Some(quote::quote!(DefaultExpr::AuthUserId)),
            (Some("sql"), 1) => expr::raw_sql(errors, &call.args[0])
                .map(|raw| quote::quote!(DefaultExpr::Sql(B(#raw)))),
            _ => {
                errors.at(value, "unsupported default; write a literal (false, 0, \"text\"), now(), auth_user_id() or sql(\"...\")");
                None
            }
        };
    }
    let lit = expr::literal(errors, value)?;
    Some(quote::quote!(DefaultExpr::Literal(#lit)))
}

fn reference(errors: &mut Errors, value: &Expr) -> Option<Reference> {
    let help =
        "`references` names the target column as Table::column, e.g. references = Project::id";
    let Expr::Path(path) = value else {
        errors.at(value, help);
        return None;
    };
    if path.path.segments.len() < 2 {
        errors.at(value, help);
        return None;
    }
    Some(Reference {
        path: path.clone(),
        on_delete: "NoAction",
        on_update: "NoAction",
    })
}

fn table_attr(table: &mut Table, attr: &syn::Attribute, errors: &mut Errors) {
    let mut disable_span = None;
    for arg in args::parse(attr, errors) {
        let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
        match (key.as_str(), &arg) {
            ("name", Arg::Pair(k, v)) => {
                if let Some(s) = args::string(errors, k, v) {
                    table.name = s.value();
                }
            }
            ("schema", Arg::Pair(k, v)) => {
                if let Some(s) = args::string(errors, k, v) {
                    table.schema = s.value();
                }
            }
            ("force_rls", Arg::Bare(_)) => table.force_rls = true,
            ("enable_rls", Arg::Bare(_)) => table.enable_rls = true,
            ("disable_rls", Arg::Bare(k)) => {
                table.disable_rls = true;
                disable_span = Some(k.span());
            }
            ("renamed_from", Arg::Pair(k, v)) => {
                table.renamed_from = args::string(errors, k, v).map(|s| s.value());
            }
            ("policy_indexes", Arg::Pair(k, v)) => {
                table.policy_indexes = args::boolean(errors, k, v).unwrap_or(true)
            }
            _ => args::unknown(errors, "table", &arg, TABLE_KEYS),
        }
    }
    if let (Some(span), true) = (disable_span, table.enable_rls || table.force_rls) {
        errors.span(
            span,
            "`disable_rls` contradicts `enable_rls` / `force_rls`: keep one",
        );
    }
}

fn crud_policy(
    table: &mut Table,
    attr: &syn::Attribute,
    attr_index: usize,
    columns: expr::Columns<'_>,
    errors: &mut Errors,
) {
    let before = errors.count();
    let (mut roles, mut read, mut modify) = (None, None, None);
    let mut span = attr.span();
    for arg in args::parse(attr, errors) {
        let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
        match (key.as_str(), &arg) {
            ("role", Arg::Pair(_, v)) => {
                roles = Some(roles::parse(errors, v));
                span = v.span();
            }
            ("read", Arg::Pair(_, v)) => read = Some(expr::parse(errors, columns, v)),
            ("modify", Arg::Pair(_, v)) => modify = Some(expr::parse(errors, columns, v)),
            _ => args::unknown(errors, "crud_policy", &arg, CRUD_KEYS),
        }
    }
    // A misspelt key was reported: "needs `read`" would only repeat it.
    if errors.count() > before {
        return;
    }
    let Some(roles) = roles else {
        errors.at(attr, "#[crud_policy] needs `role`: #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]");
        return;
    };
    if read.is_none() && modify.is_none() {
        errors.at(attr, "#[crud_policy] needs `read`, `modify` or both: #[crud_policy(role = authenticated, read = true)]");
    }
    let crud =
        |command, using: Option<&Vec<TokenStream>>, with_check: Option<&Vec<TokenStream>>| Policy {
            name: None,
            restrictive: false,
            command,
            roles: roles
                .iter()
                .map(|r| RoleRef {
                    tokens: r.tokens.clone(),
                    key: r.key.clone(),
                })
                .collect(),
            using: using.cloned(),
            with_check: with_check.cloned(),
            span,
            attr: attr_index,
        };
    if let Some(read) = &read {
        table.policies.push(crud("select", Some(read), None));
    }
    if let Some(m) = &modify {
        table.policies.push(crud("insert", None, Some(m)));
        table.policies.push(crud("update", Some(m), Some(m)));
        table.policies.push(crud("delete", Some(m), None));
    }
}

fn policy(
    table: &mut Table,
    attr: &syn::Attribute,
    attr_index: usize,
    columns: expr::Columns<'_>,
    errors: &mut Errors,
) {
    let before = errors.count();
    let mut p = Policy {
        name: None,
        restrictive: false,
        command: "all",
        roles: Vec::new(),
        using: None,
        with_check: None,
        span: attr.span(),
        attr: attr_index,
    };
    let (mut using_key, mut check_key, mut has_to) = (None, None, false);
    for arg in args::parse(attr, errors) {
        let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
        match (key.as_str(), &arg) {
            ("name", Arg::Pair(k, v)) => {
                p.name = args::string(errors, k, v).map(|s| s.value());
                p.span = v.span();
            }
            ("as", Arg::Pair(k, v)) => {
                p.restrictive = args::choice(errors, k, v, &["permissive", "restrictive"])
                    == Some("restrictive")
            }
            ("for", Arg::Pair(k, v)) => {
                p.command = args::choice(errors, k, v, COMMANDS).unwrap_or("all")
            }
            ("to", Arg::Pair(_, v)) => {
                p.roles = roles::parse(errors, v);
                has_to = true;
            }
            ("using", Arg::Pair(k, v)) => {
                p.using = Some(expr::parse(errors, columns, v));
                using_key = Some(k.clone());
            }
            ("with_check", Arg::Pair(k, v)) => {
                p.with_check = Some(expr::parse(errors, columns, v));
                check_key = Some(k.clone());
            }
            _ => args::unknown(errors, "policy", &arg, POLICY_KEYS),
        }
    }
    if errors.count() > before {
        return;
    }
    if p.name.is_none() {
        errors.at(
            attr,
            "#[policy] needs a name: #[policy(name = \"members can read\", ...)]",
        );
        return;
    }
    if !has_to {
        // pgPolicy's default; written out so the grant it implies is visible.
        p.roles.push(RoleRef {
            tokens: quote::quote!(::rls::Role::PUBLIC),
            key: "public".into(),
        });
    }
    match (p.command, &using_key, &check_key) {
        ("insert", Some(k), _) => errors.at(k, "an INSERT policy cannot have `using` (PostgreSQL rejects it): new rows are checked with `with_check`; rename `using` to `with_check`"),
        ("select" | "delete", _, Some(k)) => errors.at(k, format!("a {} policy cannot have `with_check` (PostgreSQL rejects it): existing rows are filtered with `using`; rename `with_check` to `using`", p.command.to_uppercase())),
        (_, None, None) => errors.at(attr, "a policy needs `using` (which existing rows it applies to), `with_check` (which new rows are allowed) or both"),
        _ => table.policies.push(p),
    }
}

fn grant(table: &mut Table, attr: &syn::Attribute, errors: &mut Errors) {
    let (mut to, mut privileges) = (None, None);
    for arg in args::parse(attr, errors) {
        let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
        match (key.as_str(), &arg) {
            ("to", Arg::Pair(_, v)) => to = Some(roles::parse(errors, v)),
            ("privileges", Arg::Pair(k, v)) => {
                let mut list = Vec::new();
                for e in args::list(v) {
                    match args::choice(
                        errors,
                        k,
                        e,
                        &["all", "select", "insert", "update", "delete"],
                    ) {
                        Some("all") => list.extend(["Select", "Insert", "Update", "Delete"]),
                        Some("select") => list.push("Select"),
                        Some("insert") => list.push("Insert"),
                        Some("update") => list.push("Update"),
                        Some("delete") => list.push("Delete"),
                        _ => {}
                    }
                }
                privileges = Some(list);
            }
            _ => args::unknown(errors, "grant", &arg, GRANT_KEYS),
        }
    }
    match (to, privileges) {
        (Some(roles), Some(privileges)) => {
            for r in roles {
                table.grants.push((r, privileges.clone()));
            }
        }
        _ => errors.at(attr, "#[grant] needs `to` and `privileges`: #[grant(to = authenticated, privileges = [select])] (`privileges = []` takes every privilege away)"),
    }
}

fn index(
    table: &mut Table,
    attr: &syn::Attribute,
    columns: expr::Columns<'_>,
    errors: &mut Errors,
) {
    let mut index = Index {
        name: None,
        columns: Vec::new(),
        unique: false,
    };
    for arg in args::parse(attr, errors) {
        let key = arg.key().map(|k| k.unraw().to_string()).unwrap_or_default();
        match (key.as_str(), &arg) {
            ("columns", Arg::Pair(_, v)) => {
                index.columns = args::list(v)
                    .into_iter()
                    .filter_map(|e| expr::column(errors, columns, e).map(String::from))
                    .collect();
            }
            ("unique", Arg::Bare(_)) => index.unique = true,
            ("name", Arg::Pair(k, v)) => index.name = args::string(errors, k, v).map(|s| s.value()),
            _ => args::unknown(errors, "index", &arg, INDEX_KEYS),
        }
    }
    if index.columns.is_empty() {
        if errors.is_empty() {
            errors.at(attr, "#[index] needs columns: #[index(columns = [a, b])]");
        }
    } else {
        table.indexes.push(index);
    }
}

fn check(
    table: &mut Table,
    attr: &syn::Attribute,
    columns: expr::Columns<'_>,
    errors: &mut Errors,
) {
    let (mut name, mut body) = (None, None);
    for arg in args::parse(attr, errors) {
        match &arg {
            Arg::Pair(k, v) if k == "name" => name = args::string(errors, k, v).map(|s| s.value()),
            Arg::Bare(e) if body.is_none() => body = Some(expr::parse(errors, columns, e)),
            _ => args::unknown(errors, "check", &arg, &["name"]),
        }
    }
    match body {
        Some(ops) => table.checks.push((name, ops)),
        None => errors.at(attr, "#[check] needs a condition: #[check(budget >= 0)]"),
    }
}

/// `TodoItem` -> `todo_item`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_uppercase() {
            if i > 0 && !name[..i].ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `Option<T>` written as such (used only with `sql_type`, where no trait says it).
pub fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Group(g) => is_option(&g.elem),
        _ => false,
    }
}

/// `T` for `Option<T>`, else the type itself.
pub fn strip_option(ty: &Type) -> &Type {
    if let Type::Path(p) = ty
        && let Some(seg) = p.path.segments.last()
        && seg.ident == "Option"
        && let syn::PathArguments::AngleBracketed(a) = &seg.arguments
        && let Some(syn::GenericArgument::Type(inner)) = a.args.first()
    {
        return inner;
    }
    ty
}
