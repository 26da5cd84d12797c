//! Code generation for `#[derive(Table)]`: one `&'static TableDef` constant and one typed
//! column handle per field. Static data only, so a crate with many tables compiles fast. What
//! the policies permit (`SelectPolicy`, `UpdatePolicy`) is asked of that constant while the
//! crate compiles (`TableDef::permits`), never worked out here: the rule lives in rls-core.

use super::ast::{Clause, CompositeKey, Field, Policy, Table};
use crate::errors::Errors;
use crate::helpers::{is_option, strip_option};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub fn table(t: &Table, errors: Errors) -> TokenStream {
    let ident = &t.ident;
    let handles = column_handles(t);
    if !errors.is_empty() && t.generic {
        // Impls without the struct's generics would only add errors.
        return errors.into_compile_errors();
    }
    if !errors.is_empty() {
        // Still define the trait and the handles, so the user sees these errors and not a
        // cascade of "not implemented" ones in every place that uses the table.
        let errors = errors.into_compile_errors();
        return quote! {
            #errors
            impl ::pgrls::Table for #ident {
                const TABLE: &'static ::pgrls::TableDef = &::pgrls::__private::PLACEHOLDER;
                // Permitted: the builders add no error of their own to the attributes'.
                type SelectPolicy = ::pgrls::query::Permitted;
                type UpdatePolicy = ::pgrls::query::Permitted;
            }
            #handles
        };
    }
    let (schema, name) = (&t.schema, &t.name);
    let columns = t.fields.iter().map(column);
    let primary_key = &t.primary_key;
    let uniques = t
        .uniques
        .iter()
        .map(|cols| quote!(Unique { columns: B(&[#(B(#cols)),*]) }));
    let foreign_keys = t
        .fields
        .iter()
        .filter_map(foreign_key)
        .chain(t.composite_keys.iter().map(composite_key));
    let checks = t.checks.iter().map(|c| {
        let (name, ops) = (option_str(c.name.as_deref()), &c.ops);
        quote!(Check { name: #name, expr: Expr::new(&[#(#ops),*]) })
    });
    let indexes = t.indexes.iter().map(|i| {
        let (cols, unique) = (&i.columns, i.unique);
        let name = option_str(i.name.as_deref());
        quote!(Index { name: #name, columns: B(&[#(B(#cols)),*]), unique: #unique })
    });
    let policies = t.policies.iter().map(policy);
    let grants = t.grants.iter().map(|g| {
        let role = &g.role.tokens;
        let privileges = g.privileges.iter().map(|p| variant(p.variant()));
        quote!(Grant { role: #role, privileges: B(&[#(Privilege::#privileges),*]) })
    });
    let (enable_rls, force_rls, policy_indexes) = (t.enable_rls, t.force_rls, t.policy_indexes);
    let disable_rls = t.disable_rls.is_some();
    let existing = t.existing.is_some();
    let renamed_from = option_str(t.renamed_from.as_deref());
    let distribution = distribution(t);
    let allowed_lints = t.allowed_lints.iter().map(|a| {
        let (lint, reason) = (variant(&format!("{:?}", a.lint)), &a.reason);
        quote!(AllowedLint { lint: Lint::#lint, reason: B(#reason) })
    });
    let lookups = t.lookups.iter().map(|l| {
        let (name, column, ops) = (&l.name, &l.column, &l.ops);
        quote!(Lookup { name: B(#name), column: B(#column), filter: Expr::new(&[#(#ops),*]) })
    });
    let named = named_handles(t);
    let column_types = column_types(t);
    let checks_at_compile_time = compile_time_checks(t);
    let model = model(t);
    quote! {
        impl ::pgrls::Table for #ident {
            const TABLE: &'static ::pgrls::TableDef = &{
                #named
                #column_types
                {
                #[allow(unused_imports)]
                use ::pgrls::__private::*;
                TableDef {
                    schema: B(#schema),
                    name: B(#name),
                    columns: B(&[#(#columns),*]),
                    primary_key: B(&[#(B(#primary_key)),*]),
                    uniques: B(&[#(#uniques),*]),
                    foreign_keys: B(&[#(#foreign_keys),*]),
                    checks: B(&[#(#checks),*]),
                    indexes: B(&[#(#indexes),*]),
                    policies: B(&[#(#policies),*]),
                    grants: B(&[#(#grants),*]),
                    enable_rls: #enable_rls,
                    force_rls: #force_rls,
                    policy_indexes: #policy_indexes,
                    disable_rls: #disable_rls,
                    existing: #existing,
                    distribution: #distribution,
                    renamed_from: #renamed_from,
                    allowed_lints: B(&[#(#allowed_lints),*]),
                    lookups: B(&[#(#lookups),*]),
                }
                }
            };
            type SelectPolicy = ::pgrls::query::Access<{ <::pgrls::query::Policies<#ident>>::SELECT }>;
            type UpdatePolicy = ::pgrls::query::Access<{ <::pgrls::query::Policies<#ident>>::UPDATE }>;
        }
        #handles
        #checks_at_compile_time
        #model
    }
}

/// Decoding rows into the struct, and the insert struct (`NewTodo` for `Todo`): what the
/// query builders need. Columns are read by position, in field order, which is the order
/// rls-core selects them in. The functions are `#[inline]`, so the model crate does not
/// generate code for them: the crates that run queries do, once, where they are called. After
/// an edit to one struct of the 100-table crate the rebuild went from 1.30× to 0.83× serde's
/// (benches/compile-time/README.md).
fn model(t: &Table) -> TokenStream {
    let ident = &t.ident;
    let vis = &t.vis;
    let new_ident = syn::Ident::new(&format!("New{}", ident), ident.span());
    let reads = t.fields.iter().enumerate().map(|(i, f)| {
        let (field, ty) = (&f.ident, &f.ty);
        if f.sql_type.is_some() {
            quote!(#field: ::pgrls::__private::sqlx::Row::try_get(row, at + #i)?)
        } else {
            quote_spanned!(ty.span()=> #field: (::pgrls::__private::column::<#ty>().decode)(row, at + #i)?)
        }
    });
    let insertable: Vec<&Field> = t
        .fields
        .iter()
        // Identity columns are numbered by the database.
        .filter(|f| f.identity.is_none())
        .collect();
    let new_fields = insertable.iter().map(|f| {
        let (field, ty, vis) = (&f.ident, &f.ty, &f.vis);
        let doc = if f.default.is_some() {
            "`None` takes the column's default.".to_string()
        } else {
            String::new()
        };
        if f.default.is_some() {
            quote!(#[doc = #doc] #vis #field: ::core::option::Option<#ty>)
        } else {
            quote!(#vis #field: #ty)
        }
    });
    let writes = insertable.iter().map(|f| {
        let (field, sql, ty) = (&f.ident, &f.sql, &f.ty);
        match (f.sql_type.is_some(), f.default.is_some()) {
            (true, true) => quote!(row.value_or_default(#sql, self.#field);),
            (true, false) => quote!(row.value(#sql, self.#field);),
            (false, true) => {
                let bind = quote_spanned!(ty.span()=> ::pgrls::__private::column::<#ty>().bind);
                quote!(row.boxed(#sql, self.#field.map(#bind));)
            }
            (false, false) => {
                let bind = quote_spanned!(ty.span()=> ::pgrls::__private::column::<#ty>().bind);
                quote!(row.boxed(#sql, ::core::option::Option::Some((#bind)(self.#field)));)
            }
        }
    });
    let doc = format!(
        "A new row of `{}.{}` for `{ident}::insert`.",
        t.schema, t.name
    );
    let joins = joinable(t);
    quote! {
        impl<'r> ::pgrls::__private::sqlx::FromRow<'r, ::pgrls::__private::PgRow> for #ident {
            #[inline]
            fn from_row(row: &'r ::pgrls::__private::PgRow) -> ::core::result::Result<Self, ::pgrls::__private::sqlx::Error> {
                <#ident as ::pgrls::Model>::decode_at(row, 0)
            }
        }
        #joins
        #[doc = #doc]
        #vis struct #new_ident {
            #(#new_fields),*
        }
        impl ::pgrls::query::NewRow<#ident> for #new_ident {
            #[inline]
            fn write(self, row: &mut ::pgrls::query::RowWriter) {
                #(#writes)*
            }
        }
        impl ::pgrls::Model for #ident {
            type New = #new_ident;
            #[inline]
            fn decode_at(row: &::pgrls::__private::PgRow, at: usize) -> ::core::result::Result<Self, ::pgrls::__private::sqlx::Error> {
                ::core::result::Result::Ok(#ident { #(#reads),* })
            }
        }
    }
}

/// `Joinable` both ways for each table this one references through one foreign key, so that
/// `inner_join(Other::select())` needs no ON clause. A table referenced by two foreign keys gets
/// none (the join could not choose: `inner_join_on` says which), nor does this table itself.
fn joinable(t: &Table) -> TokenStream {
    let ident = &t.ident;
    let targets: Vec<(String, syn::Path, &str, &syn::ExprPath, &syn::Type)> = t
        .fields
        .iter()
        .filter_map(|f| {
            let r = f.references.as_ref()?;
            let mut target = r.path.path.clone();
            target.segments.pop()?;
            target.segments.pop_punct();
            let text = quote::ToTokens::to_token_stream(&target).to_string();
            let own = text == "Self" || *ident == text;
            let other = !own && !target.segments.is_empty();
            other.then_some((text, target, f.sql.as_str(), &r.path, strip_option(&f.ty)))
        })
        .collect();
    let mut out = TokenStream::new();
    for (text, target, column, path, key) in &targets {
        if targets.iter().filter(|(other, ..)| other == text).count() > 1 {
            continue;
        }
        // Each side under its own marker: two tables that reference each other get four
        // impls, none in conflict (their joins then name the side with `inner_join_on`).
        out.extend(quote! {
            impl ::pgrls::query::Joinable<#target, ::pgrls::query::FromChild> for #ident {
                type Key = #key;
                const ON: (&'static str, &'static str) = (#column, #path.name);
            }
            impl ::pgrls::query::Joinable<#ident, ::pgrls::query::FromParent> for #target {
                type Key = #key;
                const ON: (&'static str, &'static str) = (#path.name, #column);
            }
        });
    }
    out
}

/// The name of a variant of one of pgrls-rules' enums, as the generated code spells it.
fn variant(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::call_site())
}

/// The table's placement on Citus; `None` when unplaced or misnamed (reported by `check`).
fn distribution(t: &Table) -> TokenStream {
    if t.reference.is_some() {
        return quote!(Some(Distribution::Reference));
    }
    let field = t
        .distribute_by
        .as_ref()
        .and_then(|by| t.fields.iter().find(|f| f.ident == *by));
    match field {
        Some(f) => {
            let column = &f.sql;
            let with = option_str(t.colocate_with.as_ref().map(|l| l.value()).as_deref());
            quote!(Some(Distribution::Distributed { column: B(#column), colocate_with: #with }))
        }
        None => quote!(None),
    }
}

fn option_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(B(#s))),
        None => quote!(None),
    }
}

fn column(f: &Field) -> TokenStream {
    let (name, ty) = (&f.sql, &f.ty);
    let (sql_type, nullable) = match &f.sql_type {
        Some(s) => {
            let nullable = is_option(ty);
            (
                quote!(SqlType { name: TypeName::Builtin(B(#s)), array: false }),
                quote!(#nullable),
            )
        }
        None => {
            let (sql_type, nullable) = column_type_idents(f);
            (quote!(#sql_type), quote!(#nullable))
        }
    };
    let default = match &f.default {
        Some(d) => {
            let d = &d.tokens;
            quote!(Some(#d))
        }
        None => quote!(None),
    };
    let identity = match f.identity {
        Some(i) => {
            let i = variant(i.variant());
            quote!(Some(Identity::#i))
        }
        None => quote!(None),
    };
    let policy_index = f.policy_index;
    let renamed_from = option_str(f.renamed_from.as_deref());
    quote! {
        ColumnDef {
            name: B(#name),
            ty: #sql_type,
            nullable: #nullable,
            default: #default,
            identity: #identity,
            policy_index: #policy_index,
            renamed_from: #renamed_from,
        }
    }
}

/// What the handles of other tables that the table's attributes name (foreign keys'
/// targets, sub-selects, lookups) name, as constants defined outside the block that imports
/// the model's types: there, a table struct named like one of them (`Role`, `Policy`) would
/// be shadowed. One constant per path.
fn named_handles(t: &Table) -> TokenStream {
    let references = t.fields.iter().filter_map(|f| {
        let path = &f.references.as_ref()?.path;
        Some((crate::expr::named_ident(path), path.clone()))
    });
    let clauses = t
        .policies
        .iter()
        .flat_map(|p| p.clauses())
        .flat_map(|c| c.named.iter().cloned());
    let mut seen: Vec<String> = Vec::new();
    let mut out = TokenStream::new();
    for (ident, path) in references.chain(clauses) {
        let key = ident.to_string();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.extend(quote_spanned! {path.span()=>
            #[allow(non_upper_case_globals)]
            const #ident: [&str; 3] = [#path.schema, #path.table, #path.name];
        });
    }
    out
}

/// The constants holding a field's SQL type and nullability, from its Rust type (see
/// [`column_types`]).
fn column_type_idents(f: &Field) -> (syn::Ident, syn::Ident) {
    use syn::ext::IdentExt;
    let field = f.ident.unraw();
    (
        syn::Ident::new(&format!("__rls_type_{field}"), f.ty.span()),
        syn::Ident::new(&format!("__rls_nullable_{field}"), f.ty.span()),
    )
}

/// Each field's SQL type and nullability, read from its Rust type's `ColumnType` into a
/// constant outside the block that imports pgrls's model types: a field of a type named like
/// one of them (a `PgEnum` called `Role`) is the user's type there.
fn column_types(t: &Table) -> TokenStream {
    let mut out = TokenStream::new();
    for f in t.fields.iter().filter(|f| f.sql_type.is_none()) {
        let ((sql_type, nullable), ty) = (column_type_idents(f), &f.ty);
        out.extend(quote_spanned! {ty.span()=>
            let #sql_type: ::pgrls::__private::SqlType = <#ty as ::pgrls::ColumnType>::SQL_TYPE;
            let #nullable: bool = <#ty as ::pgrls::ColumnType>::NULLABLE;
        });
    }
    out
}

fn foreign_key(f: &Field) -> Option<TokenStream> {
    let r = f.references.as_ref()?;
    let (name, path) = (&f.sql, &r.path);
    let (on_delete, on_update) = (
        variant(r.on_delete.variant()),
        variant(r.on_update.variant()),
    );
    let target = crate::expr::named_ident(path);
    Some(quote! {
        ForeignKey {
            columns: B(&[B(#name)]),
            target_schema: B(#target[0]),
            target_table: B(#target[1]),
            target_columns: B(&[B(#target[2])]),
            on_delete: FkAction::#on_delete,
            on_update: FkAction::#on_update,
        }
    })
}

/// The target's schema, name and primary key are read from its `TABLE` constant while the
/// crate compiles.
fn composite_key(k: &CompositeKey) -> TokenStream {
    let (columns, target) = (&k.columns, &k.target);
    let (on_delete, on_update) = (
        variant(k.on_delete.variant()),
        variant(k.on_update.variant()),
    );
    quote! {
        ForeignKey {
            columns: B(&[#(B(#columns)),*]),
            target_schema: B(borrowed_str(&<#target as ::pgrls::Table>::TABLE.schema)),
            target_table: B(borrowed_str(&<#target as ::pgrls::Table>::TABLE.name)),
            target_columns: B(borrowed_list(&<#target as ::pgrls::Table>::TABLE.primary_key)),
            on_delete: FkAction::#on_delete,
            on_update: FkAction::#on_update,
        }
    }
}

fn policy(p: &Policy) -> TokenStream {
    let name = match &p.name {
        Some(n) => quote!(PolicyName::Named(B(#n))),
        None => quote!(PolicyName::Crud),
    };
    let (kind, command) = (variant(p.kind.variant()), variant(p.command.variant()));
    let roles = p.roles.iter().map(|r| &r.tokens);
    let clause = |clause: &Option<Clause>| match clause {
        Some(Clause { ops, .. }) => quote!(Some(Expr::new(&[#(#ops),*]))),
        None => quote!(None),
    };
    let (using, with_check) = (clause(&p.using), clause(&p.with_check));
    quote! {
        Policy {
            name: #name,
            kind: PolicyKind::#kind,
            command: Command::#command,
            roles: B(&[#(#roles),*]),
            using: #using,
            with_check: #with_check,
        }
    }
}

/// `Todo::user_id`: a typed handle per column, also the target of `references`.
fn column_handles(t: &Table) -> TokenStream {
    let ident = &t.ident;
    let (schema, table) = (&t.schema, &t.name);
    let handles = t.fields.iter().map(|f| {
        let (field, sql, vis_ty) = (&f.ident, &f.sql, &f.ty);
        // The handle knows whether the column alone is a key: `references` may name it.
        let uniques = t.uniques.iter().map(Vec::as_slice);
        let unique_indexes = t.indexes.iter().filter(|i| i.unique).map(|i| &*i.columns);
        let unique = rls_rules::is_key(
            std::slice::from_ref(&f.sql),
            &t.primary_key,
            uniques.chain(unique_indexes),
        );
        let doc = format!("The column `{sql}` of `{schema}.{table}`.");
        quote! {
            #[doc = #doc]
            pub const #field: ::pgrls::Col<#ident, #vis_ty> = ::pgrls::Col::new(#schema, #table, #sql, #unique);
        }
    });
    let lookups = t.lookups.iter().map(|l| {
        let (name, ty) = (&l.name, strip_option(&l.ty));
        let constant = syn::Ident::new(name, l.span);
        let doc = format!("The `#[lookup]` function `{schema}.{name}()`, for policies: `col.is_in({ident}::{name})`.");
        quote! {
            #[doc = #doc]
            pub const #constant: ::pgrls::LookupFn<#ident, #ty> = ::pgrls::LookupFn::new(#schema, #table, #name);
        }
    });
    quote! {
        #[allow(non_upper_case_globals)]
        impl #ident {
            #(#handles)*
            #(#lookups)*
        }
    }
}

/// Checks that need the type system: a foreign key's target exists, is unique and has the
/// same type; identity columns are integers; what policies read in other tables exists and
/// the types they compare agree.
fn compile_time_checks(t: &Table) -> TokenStream {
    let mut out = Checks::default();
    let clauses = t.policies.iter().flat_map(|p| p.clauses());
    for clause in clauses {
        for check in &clause.checks {
            out.extend(check.clone());
        }
    }
    for f in &t.fields {
        if let Some(r) = &f.references {
            let path = &r.path;
            let ty = strip_option(&f.ty);
            out.extend(quote_spanned! {path.span()=>
                const _: () = assert!(
                    ::pgrls::__private::FkTarget(#path).from_field_of_type::<#ty>(),
                    "`references` must name a primary key or unique column: mark the target #[column(unique)] or #[column(primary_key)]"
                );
            });
        }
        if let Some(d) = f
            .default
            .as_ref()
            .filter(|d| d.user_id && f.sql_type.is_none())
        {
            out.extend(crate::expr::user_id_column(d.span, &f.ty));
        }
        if f.identity.is_some() && f.sql_type.is_none() {
            let ty = &f.ty;
            out.extend(quote_spanned! {ty.span()=>
                const _: fn() = ::pgrls::__private::identity_column::<#ty>;
            });
        }
    }
    out.tokens
}

/// Compile-time checks, each written once: a `#[crud_policy]` that compares `user_id` with
/// the user id in its four policies needs the column's type checked once, not five times
/// (every constant is one more item for rustc to check after any edit).
#[derive(Default)]
struct Checks {
    tokens: TokenStream,
    seen: std::collections::HashSet<String>,
}

impl Checks {
    fn extend(&mut self, check: TokenStream) {
        if self.seen.insert(check.to_string()) {
            self.tokens.extend(check);
        }
    }
}
