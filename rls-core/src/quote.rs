//! The only place where names and constants become SQL text: a leaf below every layer, so
//! that the model can spell an enum type's name (`SqlType::sql_name`) and the renderer
//! everything else.

use std::fmt::Write;

/// `"name"`, with embedded quotes doubled. Every identifier the renderer emits goes through
/// here, so reserved words (`"user"`), mixed case and quotes survive.
pub fn ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// `'text'`, with quotes doubled; `E'...'` with backslashes doubled when the text has any,
/// so the result means the same whatever `standard_conforming_strings` is.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    if text.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// [`string`] for text that arrives at run time: `None` when it holds a NUL character, which
/// no PostgreSQL text can (libpq's `PQescapeLiteral` stops there; this refuses instead).
pub fn string_literal(text: &str) -> Option<String> {
    (!text.contains('\0')).then(|| string(text))
}

/// `$tag$body$tag$` with a tag that does not occur in `body`.
pub fn dollar(body: &str) -> String {
    let mut tag = String::from("$rls$");
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag.clear();
        let _ = write!(tag, "$rls{n}$");
    }
    format!("{tag}\n{body}{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("user"), r#""user""#);
        assert_eq!(ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(qualified("App", "Todo"), r#""App"."Todo""#);
        assert_eq!(string("it's"), "'it''s'");
        assert_eq!(string(r"a\b'"), r"E'a\\b'''");
        assert_eq!(string_literal("a\\'b").as_deref(), Some(r"E'a\\''b'"));
        assert_eq!(string_literal("a\0"), None);
        assert_eq!(dollar("x"), "$rls$\nx$rls$");
        assert_eq!(dollar("$rls$"), "$rls1$\n$rls$$rls1$");
    }
}
