//! `#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]`:
//! a function that reads this table without its policies, for policies to call with
//! `col.is_in(Table::my_org_ids)`.

use super::ast::{Lookup, Table};
use crate::args::{self, Arg, Attr};
use crate::errors::Errors;
use crate::expr::{self, Columns};
use syn::Attribute;

const KEYS: &[&str] = &["name", "select", "filter"];
const EXAMPLE: &str =
    "#[lookup(name = \"my_org_ids\", select = org_id, filter = user_id == auth_user_id())]";

pub fn parse(table: &mut Table, attr: &Attribute, columns: Columns<'_>, errors: &mut Errors) {
    let checkpoint = errors.checkpoint();
    let mut name = Attr::none("lookup", "name");
    let mut select = Attr::none("lookup", "select");
    let mut filter = Attr::none("lookup", "filter");
    for arg in args::parse(attr, errors) {
        match (arg.word().as_str(), &arg) {
            ("name", Arg::Pair(k, v)) => {
                let value = args::string(errors, k, v).and_then(|s| {
                    let text = s.value();
                    if syn::parse_str::<syn::Ident>(&text).is_ok() && !text.starts_with("r#") {
                        Some((text, s.span()))
                    } else {
                        errors.at(
                            &s,
                            "a lookup's name is also the name of its Rust constant (`Table::name`): use a Rust identifier, e.g. \"my_org_ids\"",
                        );
                        None
                    }
                });
                name.set(errors, k, value);
            }
            ("select", Arg::Pair(k, v)) => {
                let value = expr::own_column(errors, columns, v)
                    .map(|(sql, ty)| (sql.to_string(), ty.clone()));
                select.set(errors, k, value);
            }
            ("filter", Arg::Pair(k, v)) => {
                let checkpoint = errors.checkpoint();
                let value = expr::parse(errors, columns, expr::Place::Lookup, v);
                if !value.reads_caller && !errors.since(checkpoint) {
                    errors.at(
                        v,
                        "a lookup's filter must depend on the caller: the function reads the table without its policies, so this filter would give every caller the same rows. Compare a column with auth_user_id() or a claim, e.g. filter = user_id == auth_user_id()",
                    );
                }
                filter.set(errors, k, Some(value));
            }
            _ => args::unknown(errors, "lookup", &arg, KEYS),
        }
    }
    let (name, select, filter) = (name.get(), select.get(), filter.get());
    if errors.since(checkpoint) {
        return;
    }
    let (Some((name, span)), Some((column, ty)), Some(filter)) = (name, select, filter) else {
        errors.at(
            attr,
            format!("#[lookup] needs `name`, `select` and `filter`: {EXAMPLE}"),
        );
        return;
    };
    let taken = columns.iter().any(|(rust, ..)| *rust == name)
        || table.lookups.iter().any(|l| l.name == name);
    if taken {
        errors.span(
            span,
            format!("`{name}` is already the name of a field or another lookup of this struct: `{}::{name}` must name one thing", table.ident),
        );
        return;
    }
    table.lookups.push(Lookup {
        name,
        span,
        column,
        ty,
        ops: filter.ops,
    });
}
