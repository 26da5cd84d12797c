//! Questions about a policy's SQL text, asked alike of the renderer's text (`"todos"."user_id"
//! = (select auth.user_id())`) and of PostgreSQL's deparse (`(user_id = ( SELECT
//! auth.user_id() AS user_id))`). A small tokenizer, not a parser: strings and quoted names
//! are skipped as wholes, parentheses are matched, and that is all the lints need.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A name, unquoted and lower-cased unless it was quoted.
    Ident(String),
    /// A string or number constant.
    Const(String),
    Open,
    Close,
    Dot,
    Cast,
    Eq,
    Other,
}

fn tokens(sql: &str) -> Vec<Tok> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == c {
                        if chars.get(i + 1) == Some(&c) {
                            text.push(c);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                i += 1;
                out.push(if c == '"' {
                    Tok::Ident(text)
                } else {
                    Tok::Const(text)
                });
            }
            '(' => (out.push(Tok::Open), i += 1).1,
            ')' => (out.push(Tok::Close), i += 1).1,
            '.' => (out.push(Tok::Dot), i += 1).1,
            '=' => (out.push(Tok::Eq), i += 1).1,
            ':' if chars.get(i + 1) == Some(&':') => (out.push(Tok::Cast), i += 2).1,
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(if c.is_ascii_digit() {
                    Tok::Const(word)
                } else {
                    Tok::Ident(word.to_lowercase())
                });
            }
            _ => (out.push(Tok::Other), i += 1).1,
        }
    }
    out
}

/// For each token, the index of the `(` of each group it is in, innermost last; and for each
/// `(`, whether its group is a sub-select.
struct Groups {
    open_of: Vec<Vec<usize>>,
    close_of: Vec<Option<usize>>,
}

fn groups(toks: &[Tok]) -> Groups {
    let mut stack: Vec<usize> = Vec::new();
    let mut open_of = Vec::with_capacity(toks.len());
    let mut close_of = vec![None; toks.len()];
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open => {
                open_of.push(stack.clone());
                stack.push(i);
            }
            Tok::Close => {
                if let Some(o) = stack.pop() {
                    close_of[o] = Some(i);
                }
                open_of.push(stack.clone());
            }
            _ => open_of.push(stack.clone()),
        }
    }
    Groups { open_of, close_of }
}

fn is_select(toks: &[Tok], open: usize) -> bool {
    toks.get(open + 1) == Some(&Tok::Ident("select".into()))
}

/// A function call at token `i`: `auth.<name>(` or `[pg_catalog.]current_setting(`, with the
/// index of its `(`.
fn call_at(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    match (&toks[i], toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
        (Tok::Ident(s), Some(Tok::Dot), Some(Tok::Ident(f)), Some(Tok::Open)) if s == "auth" => {
            Some((format!("auth.{f}()"), i + 3))
        }
        (Tok::Ident(f), Some(Tok::Open), _, _)
            if f == "current_setting"
                && !(i >= 2
                    && toks[i - 1] == Tok::Dot
                    && toks[i - 2] == Tok::Ident("auth".into())) =>
        {
            Some(("current_setting()".into(), i + 1))
        }
        _ => None,
    }
}

/// The calls of `auth.*()` and `current_setting()` that are not inside a `(select ...)`, so
/// PostgreSQL evaluates them for every row: splinter's auth_rls_initplan.
pub fn per_row_calls(sql: &str) -> Vec<String> {
    let toks = tokens(sql);
    let g = groups(&toks);
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if let Some((name, _)) = call_at(&toks, i) {
            let in_select = g.open_of[i].iter().any(|&o| is_select(&toks, o));
            if !in_select && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Whether the text reads the claims a user may edit about themselves.
pub fn reads_user_metadata(sql: &str) -> bool {
    let lower = sql.to_lowercase();
    lower.contains("user_metadata") || lower.contains("raw_user_meta_data")
}

/// `true` or `1 = 1`, in any parentheses.
pub fn always_true(sql: &str) -> bool {
    let toks = tokens(sql);
    let mut t: &[Tok] = &toks;
    while t.len() >= 2 && t[0] == Tok::Open && groups(t).close_of[0] == Some(t.len() - 1) {
        t = &t[1..t.len() - 1];
    }
    let one = Tok::Const("1".into());
    t == [Tok::Ident("true".into())] || t == [one.clone(), Tok::Eq, one]
}

/// A column compared for equality with `auth.user_id()`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserIdComparison {
    pub column: String,
    /// The column is cast (`user_id::text`): its own type is not text.
    pub cast: bool,
}

/// The columns of `table` that the text compares with the user id (`col = (select
/// auth.user_id())`, either way round, with or without a cast on the column). Columns
/// qualified with another table's name (a sub-select's alias) are not `table`'s.
pub fn user_id_comparisons(sql: &str, table: &str) -> Vec<UserIdComparison> {
    let toks = tokens(sql);
    let g = groups(&toks);
    let mut out: Vec<UserIdComparison> = Vec::new();
    for i in 0..toks.len() {
        let Some((name, open)) = call_at(&toks, i) else {
            continue;
        };
        if name != "auth.user_id()" {
            continue;
        }
        let Some(close) = g.close_of[open] else {
            continue;
        };
        // The operand: the call, or the sub-select that is nothing but the call.
        let (mut start, mut end) = (i, close);
        if let Some(&o) = g.open_of[i].last()
            && is_select(&toks, o)
            && o + 2 == i
            && let Some(c) = g.close_of[o]
            && (c == close + 1 || (c == close + 3 && toks[close + 1] == Tok::Ident("as".into())))
        {
            (start, end) = (o, c);
        }
        let found = if start >= 1 && toks[start - 1] == Tok::Eq {
            column_before(&toks, &g, start - 1)
        } else if toks.get(end + 1) == Some(&Tok::Eq) {
            column_after(&toks, end + 2)
        } else {
            None
        };
        if let Some((qualifier, column, cast)) = found
            && qualifier.is_none_or(|q| q == table)
            && !out.iter().any(|c| c.column == column)
        {
            out.push(UserIdComparison { column, cast });
        }
    }
    out
}

/// `[qualifier.]column[::type]` or `(column)::type` ending just before token `eq`.
fn column_before(toks: &[Tok], g: &Groups, eq: usize) -> Option<(Option<String>, String, bool)> {
    let mut end = eq; // exclusive
    let mut cast = false;
    // `... ::type` (a one- or two-word type name).
    if end >= 2 && matches!(toks[end - 1], Tok::Ident(_)) {
        if toks[end - 2] == Tok::Cast {
            cast = true;
            end -= 2;
        } else if end >= 3 && matches!(toks[end - 2], Tok::Ident(_)) && toks[end - 3] == Tok::Cast {
            cast = true;
            end -= 3;
        }
    }
    if end >= 1 && toks[end - 1] == Tok::Close {
        // `(col)` around a cast column: find its `(`.
        let open = (0..end - 1)
            .rev()
            .find(|&o| g.close_of[o] == Some(end - 1))?;
        return column_at(&toks[open + 1..end - 1]).map(|(q, c)| (q, c, cast));
    }
    let begin = if end >= 3 && toks[end - 2] == Tok::Dot {
        end - 3
    } else {
        end.checked_sub(1)?
    };
    column_at(&toks[begin..end]).map(|(q, c)| (q, c, cast))
}

/// `[qualifier.]column[::type]` starting at token `at`.
fn column_after(toks: &[Tok], at: usize) -> Option<(Option<String>, String, bool)> {
    let len = if toks.get(at + 1) == Some(&Tok::Dot) {
        3
    } else {
        1
    };
    let (q, c) = column_at(toks.get(at..at + len)?)?;
    Some((q, c, toks.get(at + len) == Some(&Tok::Cast)))
}

fn column_at(t: &[Tok]) -> Option<(Option<String>, String)> {
    match t {
        [Tok::Ident(c)] if !is_keyword(c) => Some((None, c.clone())),
        [Tok::Ident(q), Tok::Dot, Tok::Ident(c)] => Some((Some(q.clone()), c.clone())),
        _ => None,
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "true" | "false" | "null" | "and" | "or" | "not" | "select"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str = r#""todos"."user_id" = (select auth.user_id())"#;
    const DEPARSED: &str = "(user_id = ( SELECT auth.user_id() AS user_id))";

    #[test]
    fn initplan_calls() {
        assert!(per_row_calls(RENDERED).is_empty());
        assert!(per_row_calls(DEPARSED).is_empty());
        assert_eq!(
            per_row_calls("user_id = auth.user_id()"),
            ["auth.user_id()"]
        );
        assert_eq!(
            per_row_calls("(owner = current_setting('request.jwt.claims', true))"),
            ["current_setting()"]
        );
        assert!(per_row_calls("exists (select 1 from m where m.u = auth.user_id())").is_empty());
        assert!(per_row_calls("'auth.user_id()' = label").is_empty());
    }

    #[test]
    fn comparisons_with_the_user_id() {
        let plain = |column: &str| UserIdComparison {
            column: column.into(),
            cast: false,
        };
        assert_eq!(user_id_comparisons(RENDERED, "todos"), [plain("user_id")]);
        assert_eq!(user_id_comparisons(DEPARSED, "todos"), [plain("user_id")]);
        assert_eq!(
            user_id_comparisons("(select auth.user_id()) = owner_id", "t"),
            [plain("owner_id")]
        );
        assert_eq!(
            user_id_comparisons("((id)::text = ( SELECT auth.user_id() AS user_id))", "t"),
            [UserIdComparison {
                column: "id".into(),
                cast: true
            }]
        );
        assert_eq!(
            user_id_comparisons("id::text = auth.user_id()", "t"),
            [UserIdComparison {
                column: "id".into(),
                cast: true
            }]
        );
        assert!(user_id_comparisons("p.owner_id = (select auth.user_id())", "t").is_empty());
        assert!(user_id_comparisons("'x' = (select auth.user_id())", "t").is_empty());
    }

    #[test]
    fn always_true_and_metadata() {
        assert!(always_true("true"));
        assert!(always_true("(1 = 1)"));
        assert!(!always_true("(true AND (user_id = 'a'))"));
        assert!(reads_user_metadata(
            "(auth.session() -> 'user_metadata' ->> 'role') = 'admin'"
        ));
    }
}
