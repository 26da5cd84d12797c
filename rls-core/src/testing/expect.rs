//! Assertions that read like the rule they check: `alice.sees(Todo::select()).count(2)`,
//! `alice.writes(Todo::insert(row)).refused()`. Each runs in a session of its own that is
//! rolled back, so the fixtures are the same for every assertion.

use std::fmt::{self, Debug};

use sqlx::AssertSqlSafe;

use super::TestDatabase;
use super::probe::Probe;
use super::who::{Access, Seen, Who};
use crate::query::{Conn, Model, QueryError, Select, arguments, row_list};

/// An identity acting on a test database: `db.user("alice")`, `db.anonymous()`, `db.actor(who)`.
pub struct Actor<'db> {
    pub(crate) db: &'db TestDatabase,
    pub(crate) who: Who,
}

impl<'db> Actor<'db> {
    /// A read to check: `.count(n)`, `.nothing()`, `.rows(key, expected)`, `.denied()`.
    pub fn sees<S: Probe>(&self, statement: S) -> Expect<'_, S> {
        Expect {
            actor: self,
            statement,
        }
    }

    /// A write to check: `.touches(n)`, `.refused()`, `.denied()`.
    pub fn writes<S: Probe>(&self, statement: S) -> Expect<'_, S> {
        Expect {
            actor: self,
            statement,
        }
    }

    /// The identity it acts as.
    pub fn who(&self) -> &Who {
        &self.who
    }

    /// What the statement comes to as this identity, rolled back.
    pub async fn run(&self, statement: impl Probe) -> (String, Result<Access, String>) {
        let prepared = statement.prepare();
        let sql = prepared.sql().to_owned();
        let seen = match self.who.session(self.db.app()).await {
            Ok(mut session) => Seen::of(prepared.run(session.connection()).await),
            Err(e) => Seen::Error(format!("opening the session: {e}")),
        };
        let result = match seen {
            Seen::Access(access) => Ok(access),
            Seen::Error(e) => Err(e),
        };
        (sql, result)
    }
}

/// A statement and the identity that will run it, waiting for what to expect.
#[must_use = "an expectation does nothing until one of its methods is awaited"]
pub struct Expect<'a, S> {
    actor: &'a Actor<'a>,
    statement: S,
}

impl<S: Probe> Expect<'_, S> {
    /// The read returns exactly `n` rows.
    pub async fn count(self, n: u64) {
        self.access(Access::Rows(n)).await
    }

    /// The read returns no row (the policies hide them all).
    pub async fn nothing(self) {
        self.access(Access::Rows(0)).await
    }

    /// The write changes exactly `n` rows (0: the policies hide the rows it aims at).
    pub async fn touches(self, n: u64) {
        self.access(Access::Rows(n)).await
    }

    /// A policy refuses a row the write would leave behind (WITH CHECK).
    pub async fn refused(self) {
        self.access(Access::Refused).await
    }

    /// The role lacks the privilege: no policy gives it this command on the table.
    pub async fn denied(self) {
        self.access(Access::Denied).await
    }

    /// The statement runs, whatever number of rows it returns or writes.
    pub async fn allowed(self) {
        let (sql, seen) = self.actor.run(self.statement).await;
        if !matches!(seen, Ok(Access::Rows(_))) {
            fail(
                &self.actor.who,
                &sql,
                &"allowed (any number of rows)",
                &shown(&seen),
                None,
            );
        }
    }

    /// The statement comes to `expected`.
    pub async fn access(self, expected: Access) {
        let (sql, seen) = self.actor.run(self.statement).await;
        if seen != Ok(expected) {
            fail(&self.actor.who, &sql, &expected, &shown(&seen), None);
        }
    }
}

impl<T: Model> Expect<'_, Select<T>> {
    /// The read returns exactly the rows whose `key` is in `expected`, in any order:
    /// `.rows(|t| t.task.clone(), ["buy milk", "walk the dog"])`.
    pub async fn rows<K, E>(self, key: impl Fn(&T) -> K, expected: impl IntoIterator<Item = E>)
    where
        K: Ord + Debug,
        E: Into<K>,
    {
        let mut expected: Vec<K> = expected.into_iter().map(Into::into).collect();
        expected.sort();
        let built = self.statement.build(Some(row_list(T::TABLE)), "select");
        let sql = match &built {
            Ok((sql, _)) => sql.clone(),
            Err(_) => "(a select that yields no statement)".into(),
        };
        let who = &self.actor.who;
        let rows: Result<Vec<T>, QueryError> = async {
            let (sql, binds) = built?;
            let mut session = who.session(self.actor.db.app()).await?;
            Ok(sqlx::query_as_with(AssertSqlSafe(sql), arguments(binds)?)
                .fetch_all(session.connection())
                .await?)
        }
        .await;
        let mut seen: Vec<K> = match rows {
            Ok(rows) => rows.iter().map(key).collect(),
            Err(e) => {
                let seen = Seen::of(Err(e));
                return fail(who, &sql, &Rows(&expected), &seen, None);
            }
        };
        seen.sort();
        if seen != expected {
            let missing: Vec<&K> = expected.iter().filter(|k| !seen.contains(k)).collect();
            let extra: Vec<&K> = seen.iter().filter(|k| !expected.contains(k)).collect();
            let diff = format!("missing {missing:?}, not expected {extra:?}");
            fail(who, &sql, &Rows(&expected), &Rows(&seen), Some(&diff));
        }
    }
}

struct Rows<'a, K>(&'a [K]);

impl<K: Debug> fmt::Display for Rows<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows {:?}", self.0.len(), self.0)
    }
}

fn shown(seen: &Result<Access, String>) -> String {
    match seen {
        Ok(access) => access.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

fn fail(
    who: &Who,
    sql: &str,
    expected: &dyn fmt::Display,
    seen: &dyn fmt::Display,
    detail: Option<&str>,
) {
    let detail = detail
        .map(|d| format!("\n  difference: {d}"))
        .unwrap_or_default();
    panic!(
        "policy assertion failed\n  as:         {who}\n  statement:  {sql}\n  expected:   {expected}\n  seen:       {seen}{detail}"
    );
}
