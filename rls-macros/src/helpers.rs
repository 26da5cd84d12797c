//! Rust names and types, as both derives read them.

use syn::Type;

/// `TodoItem` -> `todo_item`: the default table, enum and label names.
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

/// `Option<T>` written as such. Only `sql_type` columns need it: elsewhere the `ColumnType`
/// impl of `Option<T>` says the column is nullable.
pub fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Group(g) => is_option(&g.elem),
        _ => false,
    }
}

/// `T` for `Option<T>`, else the type itself: a nullable foreign key column has the type of
/// the (non-null) column it references.
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
