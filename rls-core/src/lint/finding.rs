//! One thing a lint found.

use crate::model::Lint;
use rls_rules::lint::Level;

/// One thing a lint found: where, what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The lint that found it.
    pub lint: Lint,
    /// Its level: the lint's (see [`Lint::level`]).
    pub level: Level,
    /// What it is about: `public.todos`, `public.todos policy "name"`, `auth.f(integer)`.
    pub object: String,
    /// What is wrong, precisely (which role, which column, ...).
    pub message: String,
    /// The fix: the attribute to write in the model, or the SQL.
    pub fix: String,
}

impl Finding {
    /// A finding of `lint`, at the lint's level.
    pub fn new(
        lint: Lint,
        object: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            lint,
            level: lint.level(),
            object: object.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// Why it matters: the lint's reason.
    pub fn why(&self) -> &'static str {
        self.lint.why()
    }
}
