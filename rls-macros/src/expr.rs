//! Policy and check expressions, written as Rust tokens and turned into `pgrls::model::ExprOp`
//! postfix sequences. Every column of the struct is checked against its fields here; what
//! needs the type system (another table's columns, the types compared) becomes `const`
//! items that the compiler checks beside the table.

use crate::errors::Errors;
use crate::similar;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprPath, Lit, UnOp};

/// The fields an expression may name: (Rust name, SQL name, Rust type).
pub type Columns<'a> = &'a [(String, String, syn::Type)];

const HELP: &str = "policy expressions support: columns, literals, `auth_uid(col)`, `auth_user_id()`, \
    `auth_claim(\"name\")`, `auth_claim([\"o\", \"id\"])`, `clerk_org_id()`, `clerk_org_role()`, \
    `clerk_org_slug()`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, `is_null(col)`, \
    `is_not_null(col)`, `col.is_in([...])`, `col.is_in(Other::col.filter(...))`, `col.is_in(Other::lookup)`, `true`, `false` \
    and `sql(\"raw SQL\")`";

/// Where an expression stands: a policy's clause may read the caller and other tables; a
/// check constraint holds for the row alone.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Policy,
    Check,
    /// A `#[lookup]`'s filter: the caller, but no other table (the function runs as the
    /// table's owner).
    Lookup,
}

/// An expression's postfix ops, and the `const` items that check it at compile time.
#[derive(Clone, Default)]
pub struct Parsed {
    pub ops: Vec<TokenStream>,
    pub checks: Vec<TokenStream>,
    /// It reads the user id or a claim.
    pub reads_caller: bool,
    /// The handles of other tables it names, with the constants that hold what they name
    /// (see [`named_ident`]).
    pub named: Vec<(syn::Ident, ExprPath)>,
}

/// Postfix ops for `expr`; errors are recorded and produce no ops.
pub fn parse(errors: &mut Errors, columns: Columns<'_>, place: Place, expr: &Expr) -> Parsed {
    let mut w = Walker {
        errors,
        columns,
        place,
        sub: None,
        out: Parsed::default(),
    };
    w.walk(expr);
    w.out
}

/// A column reference, checked; returns its SQL name.
pub fn column<'a>(errors: &mut Errors, columns: Columns<'a>, expr: &Expr) -> Option<&'a str> {
    own_column(errors, columns, expr).map(|(sql, _)| sql)
}

pub fn own_column<'a>(
    errors: &mut Errors,
    columns: Columns<'a>,
    expr: &Expr,
) -> Option<(&'a str, &'a syn::Type)> {
    let ident = crate::args::ident_of(expr);
    match ident.and_then(|i| columns.iter().find(|(rust, ..)| *i == rust)) {
        Some((_, sql, ty)) => Some((sql, ty)),
        None => {
            match ident {
                Some(i) => {
                    let word = i.to_string();
                    let hint = similar::hint(&word, columns.iter().map(|(r, ..)| r.as_str()));
                    errors.at(i, format!("no field `{word}` in this struct{hint}"));
                }
                None => errors.at(expr, "expected a field of this struct"),
            }
            None
        }
    }
}

/// What an operand is, for the checks of the operator that takes it.
enum Operand {
    /// A column of this table, of this Rust type.
    Own(syn::Type),
    /// A column of another table, by its handle (`Member::org_id`).
    Other(ExprPath),
    /// A claim (text), written at this span.
    Claim(Span),
    /// The user id (text, or on Supabase a uuid where compared with one), written at this span.
    UserId(Span),
    /// Anything else: a literal, the user id, a condition.
    Value,
}

struct Walker<'a, 'e> {
    errors: &'e mut Errors,
    columns: Columns<'a>,
    place: Place,
    /// Inside a sub-select's filter: the handle of the column it selects.
    sub: Option<ExprPath>,
    out: Parsed,
}

/// `ColumnRef` tokens for a column handle, read from the handle's constant.
/// The constant that holds what a handle of another table names (`[schema, table, name]`):
/// the expansion defines it from the user's path outside the scope where the model's types
/// are imported, so that a table struct named `Role` or `Policy` is the user's there.
pub fn named_ident(path: &ExprPath) -> syn::Ident {
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    syn::Ident::new(&format!("__RLS_{}", segments.join("__")), path.span())
}

impl Walker<'_, '_> {
    fn op(&mut self, op: TokenStream) {
        self.out.ops.push(op);
    }

    /// `ColumnRef` tokens for a column handle of another table.
    fn column_ref(&mut self, path: &ExprPath) -> TokenStream {
        let named = self.named(path);
        quote_spanned! {path.span()=>
            ColumnRef { schema: B(#named[0]), table: B(#named[1]), column: B(#named[2]) }
        }
    }

    fn named(&mut self, path: &ExprPath) -> syn::Ident {
        let ident = named_ident(path);
        self.out.named.push((ident.clone(), path.clone()));
        ident
    }

    fn check(&mut self, check: TokenStream) {
        self.out.checks.push(check);
    }

    /// Refuses what reads the caller in a check constraint.
    fn policy_only(&mut self, at: impl quote::ToTokens, what: &str) -> bool {
        if self.place == Place::Check {
            self.errors.at(
                at,
                format!("a check constraint holds for the row alone and cannot read {what}: write this condition in a policy's `with_check`"),
            );
            return false;
        }
        true
    }

    /// Refuses what reads another table outside a policy.
    fn reads_tables(&mut self, at: impl quote::ToTokens) -> bool {
        if self.place == Place::Lookup {
            self.errors.at(
                at,
                "a lookup's filter reads only its own table's columns, the user id, claims and literals: the function runs as the table's owner",
            );
            return false;
        }
        self.policy_only(at, "another table")
    }

    fn walk(&mut self, expr: &Expr) -> Operand {
        match expr {
            Expr::Paren(p) => self.walk(&p.expr),
            Expr::Group(g) => self.walk(&g.expr),
            Expr::Lit(_)
            | Expr::Unary(syn::ExprUnary {
                op: UnOp::Neg(_), ..
            }) => {
                if let Some(lit) = literal(self.errors, expr) {
                    self.op(quote!(ExprOp::Literal(#lit)));
                }
                Operand::Value
            }
            Expr::Path(p) if p.path.segments.len() > 1 => self.other_column(p),
            Expr::Path(_) => {
                if let Some(sub) = &self.sub {
                    let table = table_of(sub);
                    self.errors.at(
                        expr,
                        format!("a sub-select's filter names only the columns of the table it reads, as `{table}::column`, the user id, claims and literals: this table's columns cannot be used there (PostgreSQL would run the sub-select again for every row)"),
                    );
                    return Operand::Value;
                }
                match own_column(self.errors, self.columns, expr) {
                    Some((sql, ty)) => {
                        self.op(quote!(ExprOp::Column(B(#sql))));
                        Operand::Own(ty.clone())
                    }
                    None => Operand::Value,
                }
            }
            Expr::Unary(syn::ExprUnary {
                op: UnOp::Not(_),
                expr: inner,
                ..
            }) => {
                self.walk(inner);
                self.op(quote!(ExprOp::Not));
                Operand::Value
            }
            Expr::Binary(b) => self.binary(b),
            Expr::Call(call) => self.call(call),
            Expr::MethodCall(m) => self.method(m),
            other => {
                self.errors
                    .at(other, format!("unsupported expression\n{HELP}"));
                Operand::Value
            }
        }
    }

    /// `Member::user_id` in a sub-select's filter.
    fn other_column(&mut self, p: &ExprPath) -> Operand {
        let Some(sub) = self.sub.clone() else {
            let table = table_of(p);
            self.errors.at(
                p,
                format!("`{}` is a column of another table: read it in a sub-select, `column.is_in({}.filter(...))`, e.g. `org_id.is_in(Member::org_id.filter(Member::user_id == auth_user_id()))` (here with `{table}`'s columns)", path_text(p), path_text(p)),
            );
            return Operand::Value;
        };
        let r = self.column_ref(p);
        self.op(quote!(ExprOp::OtherColumn(#r)));
        self.check(quote_spanned! {p.span()=>
            const _: () = ::pgrls::__private::same_table(#sub, #p);
        });
        Operand::Other(p.clone())
    }

    fn binary(&mut self, b: &syn::ExprBinary) -> Operand {
        let (op, compares) = match b.op {
            BinOp::Eq(_) => (quote!(ExprOp::Cmp(CmpOp::Eq)), true),
            BinOp::Ne(_) => (quote!(ExprOp::Cmp(CmpOp::Ne)), true),
            BinOp::Lt(_) => (quote!(ExprOp::Cmp(CmpOp::Lt)), true),
            BinOp::Le(_) => (quote!(ExprOp::Cmp(CmpOp::Le)), true),
            BinOp::Gt(_) => (quote!(ExprOp::Cmp(CmpOp::Gt)), true),
            BinOp::Ge(_) => (quote!(ExprOp::Cmp(CmpOp::Ge)), true),
            BinOp::And(_) => (quote!(ExprOp::And), false),
            BinOp::Or(_) => (quote!(ExprOp::Or), false),
            other => {
                let op = quote::ToTokens::to_token_stream(&other).to_string();
                self.errors
                    .at(b.op, format!("unsupported operator `{op}`\n{HELP}"));
                return Operand::Value;
            }
        };
        let left = self.walk(&b.left);
        let right = self.walk(&b.right);
        if compares {
            self.compared(&left, &right);
            self.compared(&right, &left);
        }
        self.op(op);
        Operand::Value
    }

    /// A claim is text: the column it is compared with must hold text. The user id is text or
    /// a uuid: the column it is compared with must hold one of them.
    fn compared(&mut self, a: &Operand, b: &Operand) {
        match (a, b) {
            (Operand::Claim(span), Operand::Own(ty)) => self.check(quote_spanned! {*span=>
                const _: () = ::pgrls::__private::text_column::<#ty>();
            }),
            (Operand::Claim(span), Operand::Other(p)) => self.check(quote_spanned! {*span=>
                const _: () = ::pgrls::__private::text_handle(#p);
            }),
            (Operand::UserId(span), Operand::Own(ty)) => self.check(user_id_column(*span, ty)),
            (Operand::UserId(span), Operand::Other(p)) => self.check(quote_spanned! {*span=>
                const _: () = ::pgrls::__private::user_id_handle(#p);
            }),
            _ => {}
        }
    }

    fn call(&mut self, call: &syn::ExprCall) -> Operand {
        let name = match &*call.func {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let args: Vec<&Expr> = call.args.iter().collect();
        const KNOWN: [&str; 9] = [
            "auth_uid",
            "auth_user_id",
            "auth_claim",
            "clerk_org_id",
            "clerk_org_role",
            "clerk_org_slug",
            "is_null",
            "is_not_null",
            "sql",
        ];
        match (name.as_deref(), args.as_slice()) {
            (Some("auth_uid"), [col]) => {
                self.out.reads_caller = true;
                if let Some((sql, ty)) = own_column(self.errors, self.columns, col) {
                    self.op(quote!(ExprOp::AuthUserId));
                    self.op(quote!(ExprOp::Column(B(#sql))));
                    self.op(quote!(ExprOp::Cmp(CmpOp::Eq)));
                    self.check(user_id_column(col.span(), ty));
                }
                Operand::Value
            }
            (Some("auth_user_id"), []) => {
                self.out.reads_caller = true;
                self.op(quote!(ExprOp::AuthUserId));
                Operand::UserId(call.span())
            }
            (Some("auth_claim"), [path]) => {
                self.out.reads_caller = true;
                if self.policy_only(call, "the token's claims")
                    && let Some(keys) = claim_path(self.errors, path)
                {
                    self.op(quote!(ExprOp::Claim(Claim::Path(B(&[#(B(#keys)),*])))));
                }
                Operand::Claim(call.span())
            }
            (Some(f @ ("clerk_org_id" | "clerk_org_role" | "clerk_org_slug")), []) => {
                self.out.reads_caller = true;
                if self.policy_only(call, "the token's claims") {
                    let variant = match f {
                        "clerk_org_id" => quote!(ClerkOrgId),
                        "clerk_org_role" => quote!(ClerkOrgRole),
                        _ => quote!(ClerkOrgSlug),
                    };
                    self.op(quote!(ExprOp::Claim(Claim::#variant)));
                }
                Operand::Claim(call.span())
            }
            (Some("is_null"), [inner]) => {
                self.walk(inner);
                self.op(quote!(ExprOp::IsNull));
                Operand::Value
            }
            (Some("is_not_null"), [inner]) => {
                self.walk(inner);
                self.op(quote!(ExprOp::IsNotNull));
                Operand::Value
            }
            (Some("sql"), [raw]) => {
                if self.place == Place::Lookup {
                    self.errors.at(
                        call,
                        "a lookup's filter cannot hold raw SQL: the function runs as the table's owner, without the table's policies",
                    );
                } else if let Some(raw) = raw_sql(self.errors, raw) {
                    self.op(quote!(ExprOp::Raw(B(#raw))));
                }
                Operand::Value
            }
            (Some(f), _) if KNOWN.contains(&f) => {
                let want = match f {
                    "auth_user_id" | "clerk_org_id" | "clerk_org_role" | "clerk_org_slug" => {
                        format!("no arguments: {f}()")
                    }
                    "sql" => "one string: sql(\"...\")".into(),
                    "auth_claim" => {
                        "one claim name or path: auth_claim(\"org_id\"), auth_claim([\"o\", \"id\"])"
                            .into()
                    }
                    _ => "one column".into(),
                };
                self.errors.at(call, format!("`{f}` takes {want}"));
                Operand::Value
            }
            (Some(f), _) => {
                let hint = similar::hint(f, KNOWN);
                self.errors
                    .at(&call.func, format!("unknown function `{f}`{hint}\n{HELP}"));
                Operand::Value
            }
            (None, _) => {
                self.errors
                    .at(&call.func, format!("unsupported call\n{HELP}"));
                Operand::Value
            }
        }
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Operand {
        let method = m.method.to_string();
        match (method.as_str(), m.args.len()) {
            ("is_in", 1) => match &m.args[0] {
                Expr::Array(items) => {
                    self.walk(&m.receiver);
                    for item in &items.elems {
                        match literal(self.errors, item) {
                            Some(lit) => self.op(quote!(ExprOp::Literal(#lit))),
                            None => return Operand::Value,
                        }
                    }
                    let n = u16::try_from(items.elems.len()).unwrap_or(u16::MAX);
                    if n == 0 {
                        self.errors.at(items, "`is_in` needs at least one value");
                    }
                    self.op(quote!(ExprOp::In(#n)));
                    Operand::Value
                }
                Expr::MethodCall(filter) if filter.method == "filter" => {
                    self.sub_select(&m.receiver, filter)
                }
                Expr::Path(p) if p.path.segments.len() > 1 => self.lookup(&m.receiver, p),
                other => {
                    self.errors.at(
                        other,
                        "`is_in` takes an array of literals, `col.is_in([1, 2])`; a sub-select, `col.is_in(Member::org_id.filter(Member::user_id == auth_user_id()))`; or a #[lookup], `col.is_in(Member::my_org_ids)`",
                    );
                    Operand::Value
                }
            },
            ("is_null" | "is_not_null", 0) => {
                self.walk(&m.receiver);
                self.op(if method == "is_null" {
                    quote!(ExprOp::IsNull)
                } else {
                    quote!(ExprOp::IsNotNull)
                });
                Operand::Value
            }
            _ => {
                self.errors
                    .at(&m.method, format!("unknown method `{method}`\n{HELP}"));
                Operand::Value
            }
        }
    }

    /// `tested.is_in(Member::my_org_ids)`.
    fn lookup(&mut self, tested: &Expr, function: &ExprPath) -> Operand {
        if !self.reads_tables(function) {
            return Operand::Value;
        }
        let operand = self.walk(tested);
        let named = self.named(function);
        let r = quote_spanned! {function.span()=>
            LookupRef { schema: B(#named[0]), table: B(#named[1]), name: B(#named[2]) }
        };
        self.op(quote!(ExprOp::InLookup(#r)));
        let check = match operand {
            Operand::Own(ty) => quote_spanned! {function.span()=>
                const _: () = ::pgrls::__private::lookup_of::<#ty, _>(&#function);
            },
            Operand::Other(p) => quote_spanned! {function.span()=>
                const _: () = ::pgrls::__private::lookup_from(#p, &#function);
            },
            Operand::Claim(_) => quote_spanned! {function.span()=>
                const _: () = ::pgrls::__private::lookup_text(&#function);
            },
            Operand::UserId(_) | Operand::Value => quote_spanned! {function.span()=>
                const _: () = ::pgrls::__private::is_lookup(&#function);
            },
        };
        self.check(check);
        Operand::Value
    }

    /// `tested.is_in(Member::org_id.filter(condition))`.
    fn sub_select(&mut self, tested: &Expr, filter: &syn::ExprMethodCall) -> Operand {
        if !self.reads_tables(filter) {
            return Operand::Value;
        }
        let selected = match (&*filter.receiver, filter.args.len()) {
            (Expr::Path(p), 1) if p.path.segments.len() > 1 => p.clone(),
            _ => {
                self.errors.at(
                    filter,
                    "a sub-select is `Table::column.filter(condition)`, e.g. `Member::org_id.filter(Member::user_id == auth_user_id())`",
                );
                return Operand::Value;
            }
        };
        let operand = self.walk(tested);
        let outer = self.sub.replace(selected.clone());
        self.walk(&filter.args[0]);
        self.sub = outer;
        let r = self.column_ref(&selected);
        self.op(quote!(ExprOp::InSelect(#r)));
        let check = match operand {
            Operand::Own(ty) => quote_spanned! {selected.span()=>
                const _: () = ::pgrls::__private::select_of::<#ty, _, _>(#selected);
            },
            Operand::Other(p) => quote_spanned! {selected.span()=>
                const _: () = ::pgrls::__private::select_from(#p, #selected);
            },
            Operand::Claim(_) => quote_spanned! {selected.span()=>
                const _: () = ::pgrls::__private::text_handle(#selected);
            },
            Operand::UserId(_) => quote_spanned! {selected.span()=>
                const _: () = ::pgrls::__private::user_id_handle(#selected);
            },
            Operand::Value => TokenStream::new(),
        };
        self.check(check);
        Operand::Value
    }
}

/// The check that a field of type `ty`, compared with the user id at `span`, holds one. The
/// type is given the span too, so that an error points at the comparison, not at the field.
pub fn user_id_column(span: Span, ty: &syn::Type) -> TokenStream {
    let ty = respanned(quote!(#ty), span);
    quote_spanned! {span=>
        const _: () = ::pgrls::__private::user_id_column::<#ty>();
    }
}

/// `tokens`, every one of them at `span`.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => {
                let mut group = proc_macro2::Group::new(g.delimiter(), respanned(g.stream(), span));
                group.set_span(span);
                proc_macro2::TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// `Member` of `Member::org_id`.
fn table_of(p: &ExprPath) -> String {
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments[..segments.len() - 1].join("::")
}

fn path_text(p: &ExprPath) -> String {
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.join("::")
}

/// The keys of `auth_claim("org_id")` or `auth_claim(["o", "id"])`.
fn claim_path(errors: &mut Errors, expr: &Expr) -> Option<Vec<String>> {
    let key = |e: &Expr| match e {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) if !s.value().is_empty() && !s.value().contains('\0') => Some(s.value()),
        _ => None,
    };
    let keys = match expr {
        Expr::Array(a) if !a.elems.is_empty() => a.elems.iter().map(key).collect(),
        other => key(other).map(|k| vec![k]),
    };
    if keys.is_none() {
        errors.at(
            expr,
            "`auth_claim` takes a claim's name or its path, as non-empty strings: auth_claim(\"org_id\"), auth_claim([\"o\", \"id\"])",
        );
    }
    keys
}

/// A constant: `true`, `12`, `-3.5`, `"text"`, as `pgrls::model::Literal` tokens.
pub fn literal(errors: &mut Errors, expr: &Expr) -> Option<TokenStream> {
    let (negative, lit) = match expr {
        Expr::Lit(l) => (false, &l.lit),
        Expr::Unary(syn::ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(l) if matches!(l.lit, Lit::Int(_) | Lit::Float(_)) => (true, &l.lit),
            _ => {
                errors.at(expr, "expected a number after `-`");
                return None;
            }
        },
        Expr::Path(p) if p.path.is_ident("None") => return Some(quote!(Literal::Null)),
        _ => {
            errors.at(
                expr,
                "expected a literal: true, false, a number or a string",
            );
            return None;
        }
    };
    let sign = if negative { "-" } else { "" };
    match lit {
        Lit::Bool(b) => {
            let v = b.value;
            Some(quote!(Literal::Bool(#v)))
        }
        Lit::Int(i) => {
            let text = format!("{sign}{}", i.base10_digits());
            Some(quote!(Literal::Number(B(#text))))
        }
        Lit::Float(f) => {
            let text = format!("{sign}{}", f.base10_digits());
            Some(quote!(Literal::Number(B(#text))))
        }
        Lit::Str(s) => {
            let text = s.value();
            Some(quote!(Literal::String(B(#text))))
        }
        other => {
            errors.at(
                other,
                "expected a literal: true, false, a number or a string",
            );
            None
        }
    }
}

/// The string of `sql("...")`.
pub fn raw_sql(errors: &mut Errors, expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) if !s.value().trim().is_empty() => Some(s.value()),
        _ => {
            errors.at(
                expr,
                "`sql` takes one non-empty string literal: sql(\"...\")",
            );
            None
        }
    }
}
