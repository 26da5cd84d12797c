//! One thing a lint found.

use crate::model::Lint;
use rls_rules::lint::Level;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub lint: Lint,
    pub level: Level,
    /// What it is about: `public.todos`, `public.todos policy "name"`, `auth.f(integer)`.
    pub object: String,
    /// What is wrong, precisely (which role, which column, ...).
    pub message: String,
    /// The fix: the attribute to write in the model, or the SQL.
    pub fix: String,
}

impl Finding {
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
