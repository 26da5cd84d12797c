//! Policy and check expressions, written as Rust tokens and turned into `rls::model::ExprOp`
//! postfix sequences. Every column is checked against the struct's fields.

use crate::errors::Errors;
use crate::similar;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{BinOp, Expr, Lit, UnOp};

/// The fields an expression may name: (Rust name, SQL name).
pub type Columns<'a> = &'a [(String, String)];

const HELP: &str = "policy expressions support: columns, literals, `auth_uid(col)`, `auth_user_id()`, \
    `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, `is_null(col)`, `is_not_null(col)`, \
    `col.is_in([...])`, `true`, `false` and `sql(\"raw SQL\")`";

/// Postfix ops for `expr`; errors are recorded and produce no ops.
pub fn parse(errors: &mut Errors, columns: Columns<'_>, expr: &Expr) -> Vec<TokenStream> {
    let mut ops = Vec::new();
    walk(errors, columns, expr, &mut ops);
    ops
}

/// A column reference, checked; returns its SQL name.
pub fn column<'a>(errors: &mut Errors, columns: Columns<'a>, expr: &Expr) -> Option<&'a str> {
    let ident = crate::args::ident_of(expr);
    match ident.and_then(|i| columns.iter().find(|(rust, _)| *i == rust)) {
        Some((_, sql)) => Some(sql),
        None => {
            match ident {
                Some(i) => {
                    let word = i.to_string();
                    let hint = similar::hint(&word, columns.iter().map(|(r, _)| r.as_str()));
                    errors.at(i, format!("no field `{word}` in this struct{hint}"));
                }
                None => errors.at(expr, "expected a field of this struct"),
            }
            None
        }
    }
}

fn walk(errors: &mut Errors, columns: Columns<'_>, expr: &Expr, ops: &mut Vec<TokenStream>) {
    match expr {
        Expr::Paren(p) => walk(errors, columns, &p.expr, ops),
        Expr::Group(g) => walk(errors, columns, &g.expr, ops),
        Expr::Lit(_)
        | Expr::Unary(syn::ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            if let Some(lit) = literal(errors, expr) {
                ops.push(quote!(ExprOp::Literal(#lit)));
            }
        }
        Expr::Path(_) => {
            if let Some(sql) = column(errors, columns, expr) {
                ops.push(quote!(ExprOp::Column(B(#sql))));
            }
        }
        Expr::Unary(syn::ExprUnary {
            op: UnOp::Not(_),
            expr: inner,
            ..
        }) => {
            walk(errors, columns, inner, ops);
            ops.push(quote!(ExprOp::Not));
        }
        Expr::Binary(b) => {
            let op = match b.op {
                BinOp::Eq(_) => quote!(ExprOp::Cmp(CmpOp::Eq)),
                BinOp::Ne(_) => quote!(ExprOp::Cmp(CmpOp::Ne)),
                BinOp::Lt(_) => quote!(ExprOp::Cmp(CmpOp::Lt)),
                BinOp::Le(_) => quote!(ExprOp::Cmp(CmpOp::Le)),
                BinOp::Gt(_) => quote!(ExprOp::Cmp(CmpOp::Gt)),
                BinOp::Ge(_) => quote!(ExprOp::Cmp(CmpOp::Ge)),
                BinOp::And(_) => quote!(ExprOp::And),
                BinOp::Or(_) => quote!(ExprOp::Or),
                other => {
                    let op = quote::ToTokens::to_token_stream(&other).to_string();
                    errors.at(b.op, format!("unsupported operator `{op}`\n{HELP}"));
                    return;
                }
            };
            walk(errors, columns, &b.left, ops);
            walk(errors, columns, &b.right, ops);
            ops.push(op);
        }
        Expr::Call(call) => {
            let name = match &*call.func {
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                _ => None,
            };
            let args: Vec<&Expr> = call.args.iter().collect();
            match (name.as_deref(), args.as_slice()) {
                (Some("auth_uid"), [col]) => {
                    if let Some(sql) = column(errors, columns, col) {
                        ops.push(quote!(ExprOp::AuthUserId));
                        ops.push(quote!(ExprOp::Column(B(#sql))));
                        ops.push(quote!(ExprOp::Cmp(CmpOp::Eq)));
                    }
                }
                (Some("auth_user_id"), []) => ops.push(quote!(ExprOp::AuthUserId)),
                (Some("is_null"), [inner]) => {
                    walk(errors, columns, inner, ops);
                    ops.push(quote!(ExprOp::IsNull));
                }
                (Some("is_not_null"), [inner]) => {
                    walk(errors, columns, inner, ops);
                    ops.push(quote!(ExprOp::IsNotNull));
                }
                (Some("sql"), [raw]) => {
                    if let Some(raw) = raw_sql(errors, raw) {
                        ops.push(quote!(ExprOp::Raw(B(#raw))));
                    }
                }
                (
                    Some(f @ ("auth_uid" | "auth_user_id" | "is_null" | "is_not_null" | "sql")),
                    _,
                ) => {
                    let want = match f {
                        "auth_user_id" => "no arguments: auth_user_id()",
                        "sql" => "one string: sql(\"...\")",
                        _ => "one column",
                    };
                    errors.at(call, format!("`{f}` takes {want}"));
                }
                (Some(f), _) => {
                    let known = ["auth_uid", "auth_user_id", "is_null", "is_not_null", "sql"];
                    let hint = similar::hint(f, known);
                    errors.at(&call.func, format!("unknown function `{f}`{hint}\n{HELP}"));
                }
                (None, _) => errors.at(&call.func, format!("unsupported call\n{HELP}")),
            }
        }
        Expr::MethodCall(m) => {
            let method = m.method.to_string();
            match (method.as_str(), m.args.len()) {
                ("is_in", 1) => {
                    let Expr::Array(items) = &m.args[0] else {
                        errors.at(
                            &m.args[0],
                            "`is_in` takes an array of literals: col.is_in([1, 2])",
                        );
                        return;
                    };
                    walk(errors, columns, &m.receiver, ops);
                    for item in &items.elems {
                        match literal(errors, item) {
                            Some(lit) => ops.push(quote!(ExprOp::Literal(#lit))),
                            None => return,
                        }
                    }
                    let n = u16::try_from(items.elems.len()).unwrap_or(u16::MAX);
                    if n == 0 {
                        errors.at(items, "`is_in` needs at least one value");
                    }
                    ops.push(quote!(ExprOp::In(#n)));
                }
                ("is_null" | "is_not_null", 0) => {
                    walk(errors, columns, &m.receiver, ops);
                    ops.push(if method == "is_null" {
                        quote!(ExprOp::IsNull)
                    } else {
                        quote!(ExprOp::IsNotNull)
                    });
                }
                _ => errors.at(&m.method, format!("unknown method `{method}`\n{HELP}")),
            }
        }
        other => errors.at(other, format!("unsupported expression\n{HELP}")),
    }
}

/// A constant: `true`, `12`, `-3.5`, `"text"`, as `rls::model::Literal` tokens.
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
