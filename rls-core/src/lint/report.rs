//! A lint run's findings, for people (the default) and for tools (`--format json`).

use super::finding::Finding;
use crate::change::plural;
use crate::model::AllowedLint;
use rls_rules::lint::Level;
use std::fmt::Write;

/// A lint run's findings, and those that `#[allow_lint]` silenced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sorted by object, then lint.
    pub findings: Vec<Finding>,
    /// What `#[allow_lint]` silenced, with the reason given.
    pub silenced: Vec<(Finding, String)>,
    /// What was looked at: "3 tables, 5 policies".
    pub scope: String,
}

impl Report {
    pub(crate) fn new(
        mut all: Vec<Finding>,
        allowed: impl Fn(&Finding) -> Option<AllowedLint>,
        scope: String,
    ) -> Report {
        all.sort_by(|a, b| (&a.object, a.lint, &a.message).cmp(&(&b.object, b.lint, &b.message)));
        all.dedup();
        let mut report = Report {
            scope,
            ..Report::default()
        };
        for f in all {
            match allowed(&f) {
                Some(a) => report.silenced.push((f, a.reason.to_string())),
                None => report.findings.push(f),
            }
        }
        report
    }

    /// How many findings are at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// 1 when there is an error (or, with `deny_warnings`, a warning), 0 otherwise.
    pub fn exit_code(&self, deny_warnings: bool) -> u8 {
        let denied = self.count(Level::Error)
            + if deny_warnings {
                self.count(Level::Warning)
            } else {
                0
            };
        u8::from(denied > 0)
    }

    /// The report for people: each finding with its reason and fix, then a summary line.
    pub fn human(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{}[{}] {}: {}",
                f.level.word(),
                f.lint.name(),
                f.object,
                f.message
            );
            let _ = writeln!(out, "  why: {}", f.why());
            let _ = writeln!(out, "  fix: {}\n", f.fix);
        }
        let silenced = match self.silenced.len() {
            0 => String::new(),
            n => format!(" ({} silenced by #[allow_lint])", plural(n, "finding")),
        };
        if self.findings.is_empty() {
            let _ = writeln!(out, "no findings in {}{silenced}", self.scope);
        } else {
            let _ = writeln!(
                out,
                "{} in {}: {}, {}, {} info{silenced}",
                plural(self.findings.len(), "finding"),
                self.scope,
                plural(self.count(Level::Error), "error"),
                plural(self.count(Level::Warning), "warning"),
                self.count(Level::Info),
            );
        }
        out
    }

    /// The report for tools (`--format json`): the findings, the silenced ones and the
    /// counts by level, as pretty-printed JSON ending in a newline.
    pub fn json(&self) -> String {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "lint": f.lint.name(),
                    "level": f.level.word(),
                    "splinter": Some(f.lint.splinter()).filter(|s| !s.is_empty()),
                    "object": f.object,
                    "message": f.message,
                    "why": f.why(),
                    "fix": f.fix,
                })
            })
            .collect();
        let silenced: Vec<serde_json::Value> = self
            .silenced
            .iter()
            .map(|(f, reason)| serde_json::json!({"lint": f.lint.name(), "object": f.object, "reason": reason}))
            .collect();
        let value = serde_json::json!({
            "findings": findings,
            "silenced": silenced,
            "summary": {
                "errors": self.count(Level::Error),
                "warnings": self.count(Level::Warning),
                "info": self.count(Level::Info),
            },
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }
}
