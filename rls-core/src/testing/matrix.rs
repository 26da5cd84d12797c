//! The access matrix: for each statement, what each identity may do, checked in one call and
//! printed as a table when any cell differs.

use super::TestDatabase;
use super::expect::Actor;
use super::probe::{Prepared, Probe};
use super::who::{Access, Who, short};

type Make = Box<dyn Fn() -> Prepared + Send + Sync>;

/// Built with [`TestDatabase::matrix`]: one column per identity, one row per statement,
/// with as many expected cells as identities (checked at compile time).
///
/// ```ignore
/// use pgrls::testing::{Access::*, Who};
/// db.matrix([Who::user("alice"), Who::user("bob"), Who::anonymous()])
///     .expect("read todos", Todo::select, [Rows(2), Rows(1), Denied])
///     .expect("insert as alice", || Todo::insert(todo("alice")), [Rows(1), Refused, Denied])
///     .check()
///     .await;
/// ```
#[must_use = "the matrix is only checked by `.check().await`"]
pub struct AccessMatrix<'db, const N: usize> {
    db: &'db TestDatabase,
    who: [Who; N],
    rows: Vec<(String, Make, [Access; N])>,
}

impl<'db, const N: usize> AccessMatrix<'db, N> {
    pub(crate) fn new(db: &'db TestDatabase, who: [Who; N]) -> Self {
        AccessMatrix {
            db,
            who,
            rows: Vec::new(),
        }
    }

    /// A row: `statement` builds the statement (once per identity), `expected` is what it
    /// comes to for each identity, in the order they were given.
    pub fn expect<S: Probe>(
        mut self,
        label: impl Into<String>,
        statement: impl Fn() -> S + Send + Sync + 'static,
        expected: [Access; N],
    ) -> Self {
        self.rows.push((
            label.into(),
            Box::new(move || statement().prepare()),
            expected,
        ));
        self
    }

    /// Runs every cell (each in a session of its own, rolled back) and panics with the
    /// whole table if any differs.
    pub async fn check(self) {
        let mut cells = Vec::with_capacity(self.rows.len());
        let mut wrong = 0;
        let mut notes = Vec::new();
        for (label, make, expected) in &self.rows {
            let mut line = Vec::with_capacity(N);
            let mut sql = String::new();
            for (who, expected) in self.who.iter().zip(expected) {
                let actor = Actor {
                    db: self.db,
                    who: who.clone(),
                };
                let (text, seen) = actor.run(make()).await;
                sql = text;
                let cell = match &seen {
                    Ok(access) if access == expected => short(*expected),
                    Ok(access) => {
                        wrong += 1;
                        format!("{} (expected {})", short(*access), short(*expected))
                    }
                    Err(e) => {
                        wrong += 1;
                        notes.push(format!("{label} as {}: {e}", who.label()));
                        format!("error (expected {})", short(*expected))
                    }
                };
                line.push(cell);
            }
            cells.push((label, sql, line));
        }
        if wrong == 0 {
            return;
        }
        let mut width = vec![self.rows.iter().map(|r| r.0.len()).max().unwrap_or(0)];
        for (i, who) in self.who.iter().enumerate() {
            let column = cells.iter().map(|c| c.2[i].len());
            width.push(column.chain([who.label().len()]).max().unwrap_or(0));
        }
        let mut table = format!("{:w$}", "", w = width[0]);
        for (i, who) in self.who.iter().enumerate() {
            table.push_str(&format!("  {:w$}", who.label(), w = width[i + 1]));
        }
        for (label, _, line) in &cells {
            table.push_str(&format!("\n{label:w$}", w = width[0]));
            for (i, cell) in line.iter().enumerate() {
                table.push_str(&format!("  {cell:w$}", w = width[i + 1]));
            }
        }
        let statements: Vec<String> = cells
            .iter()
            .map(|(label, sql, _)| format!("  {label}: {sql}"))
            .collect();
        let identities: Vec<String> = self.who.iter().map(|w| format!("  {w}")).collect();
        let errors = if notes.is_empty() {
            String::new()
        } else {
            format!("\nerrors:\n  {}", notes.join("\n  "))
        };
        panic!(
            "access matrix: {wrong} of {} cells differ (each cell: what was seen, and what was expected where they differ)\n{}\nidentities:\n{}\nstatements:\n{}{errors}",
            cells.len() * N,
            table
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n"),
            identities.join("\n"),
            statements.join("\n"),
        );
    }
}
