//! A migration as data: its changes in the order they run, what the user should know, what
//! it destroys, the model the next snapshot records, and where it is cut in two files. The
//! diff plans it (`diff::diff`, `diff::initial`); the renderer writes it (`sql/plan.rs`:
//! [`Plan::sql`], [`Plan::files`], [`Plan::to_json`]).

use crate::change::{Change, Phase, Step};
use crate::model::SchemaDef;
use serde::Serialize;

/// A migration: its changes in the order they run, what the user should know, what it
/// destroys, and the model the next snapshot records.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The changes, in order (by phase; within one, in the order they were planned).
    pub steps: Vec<Step>,
    /// Things the user should know (e.g. RLS kept on for a table without policies).
    pub notes: Vec<String>,
    /// What the migration destroys (empty unless allowed).
    pub destructive: Vec<String>,
    /// The new model as the database holds it after the migration: what the next snapshot
    /// must record.
    #[serde(skip)]
    pub next: SchemaDef,
    /// Set when the migration must be committed as two migration files (two transactions):
    /// see [`Split`] and [`Plan::parts`].
    #[serde(skip)]
    pub split: Option<Split>,
}

/// Where a migration is cut in two files. PostgreSQL refuses to use an enum value added by
/// `ALTER TYPE ... ADD VALUE` in the transaction that added it (SQLSTATE 55P04: a default,
/// a check, a policy or a converted row naming it), and sqlx runs each migration file in
/// one transaction: so the new values go in a file of their own, committed first.
#[derive(Debug, Clone)]
pub struct Split {
    /// How many of the plan's first steps (the ADD VALUEs) make the first file.
    pub steps: usize,
    /// The model after the first file (the old one with the new enum values): what the
    /// first file's snapshot records, so that the diff from it to the new model is exactly
    /// the second file.
    pub next: SchemaDef,
    /// Why, in words: the first file's note and gen-migrations' output.
    pub reason: String,
}

impl Plan {
    pub(crate) fn new(next: SchemaDef) -> Plan {
        Plan {
            steps: Vec::new(),
            notes: Vec::new(),
            destructive: Vec::new(),
            next,
            split: None,
        }
    }

    /// Whether the plan has no steps: no statement to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn push(&mut self, phase: Phase, change: Change) {
        self.steps.push(Step {
            phase,
            change,
            destructive: None,
        });
    }

    pub(crate) fn push_destructive(&mut self, phase: Phase, change: Change, what: String) {
        self.destructive.push(what.clone());
        self.steps.push(Step {
            phase,
            change,
            destructive: Some(what),
        });
    }

    /// The plan as the migration files it makes, in order, each with its own notes, what it
    /// destroys and the model its snapshot records: the plan itself, or its two halves.
    pub fn parts(&self) -> Vec<Plan> {
        let Some(split) = &self.split else {
            let mut whole = self.clone();
            whole.split = None;
            return vec![whole];
        };
        let (first, rest) = self.steps.split_at(split.steps);
        vec![
            Plan {
                steps: first.to_vec(),
                notes: vec![split.reason.clone()],
                destructive: Vec::new(),
                next: split.next.clone(),
                split: None,
            },
            Plan {
                steps: rest.to_vec(),
                notes: self.notes.clone(),
                destructive: self.destructive.clone(),
                next: self.next.clone(),
                split: None,
            },
        ]
    }

    /// How many changes of each kind, in words: "1 table created, 2 policies altered".
    pub fn summary(&self) -> String {
        let mut counts: Vec<((&str, &str), usize)> = Vec::new();
        for s in &self.steps {
            let kind = s.change.summary_kind();
            match counts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((kind, 1)),
            }
        }
        let words: Vec<String> = counts
            .iter()
            .map(|((noun, verb), n)| {
                let noun = crate::change::plural(*n, noun);
                if verb.is_empty() {
                    noun
                } else {
                    format!("{noun} {verb}")
                }
            })
            .collect();
        words.join(", ")
    }
}
