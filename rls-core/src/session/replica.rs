//! A streaming replica for sessions that only read: when it may be used, how long to wait for
//! it to replay a write, and when to leave it alone after it failed.
//!
//! Everything sent here is a simple query: replicas are often reached through a transaction
//! pooler too (Neon's read replicas have `-pooler` endpoints), where a named statement would
//! meet another client's.

use crate::query::QueryError;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long read-only sessions leave a replica alone after it could not be reached.
pub(crate) const SKIP_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// The default of [`crate::Database::with_replica_wait`].
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// A position in the primary's write-ahead log (`pg_lsn`): [`crate::Session::commit_lsn`]
/// gives the one after a commit, and `*_read_only_after` wait until the replica has replayed
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl FromStr for Lsn {
    type Err = QueryError;

    /// PostgreSQL's text form, `16/B374D848`.
    fn from_str(s: &str) -> Result<Lsn, QueryError> {
        let bad = || QueryError::Setup(format!("not a WAL position (pg_lsn): {s:?}"));
        let (high, low) = s.split_once('/').ok_or_else(bad)?;
        let high = u32::from_str_radix(high, 16).map_err(|_| bad())?;
        let low = u32::from_str_radix(low, 16).map_err(|_| bad())?;
        Ok(Lsn((u64::from(high) << 32) | u64::from(low)))
    }
}

/// The primary's current WAL insert position: past the commit record of every transaction
/// whose COMMIT has returned.
pub(crate) async fn current_lsn(primary: &PgPool) -> Result<Lsn, QueryError> {
    let row = sqlx::raw_sql("select pg_current_wal_insert_lsn()::text")
        .fetch_one(primary)
        .await?;
    row.try_get::<String, _>(0)?.parse()
}

#[derive(Clone, Debug)]
pub(crate) struct Replica {
    pub(crate) pool: PgPool,
    /// Until when read-only sessions go to the primary, after the replica failed.
    skipped_until: Arc<Mutex<Option<Instant>>>,
    /// How long a read-only session waits for the replica: for a connection, and for the
    /// replay of a given write.
    pub(crate) wait: Duration,
}

impl Replica {
    pub(crate) fn new(pool: PgPool) -> Replica {
        Replica {
            pool,
            skipped_until: Arc::default(),
            wait: DEFAULT_WAIT,
        }
    }

    pub(crate) fn available(&self) -> bool {
        let skipped = self.skipped_until.lock().unwrap_or_else(|e| e.into_inner());
        skipped.is_none_or(|until| Instant::now() >= until)
    }

    pub(crate) fn skip_for_a_while(&self) {
        *self.skipped_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + SKIP_AFTER_FAILURE);
    }

    /// A connection to the replica that has replayed `after` (if given), or `None` when that
    /// takes longer than the wait. Fails when the replica cannot be reached in that time.
    pub(crate) async fn connection(
        &self,
        after: Option<Lsn>,
    ) -> Result<Option<PoolConnection<Postgres>>, QueryError> {
        let deadline = Instant::now() + self.wait;
        // sqlx's pool retries a refused connection until its own acquire timeout (30 s by
        // default): the replica gets `wait`.
        let mut conn = within(self.wait, self.pool.acquire())
            .await
            .ok_or(QueryError::Database(sqlx::Error::PoolTimedOut))??;
        let Some(lsn) = after else {
            return Ok(Some(conn));
        };
        // Lsn's text is hex digits and a slash: nothing to quote.
        let sql =
            format!("select coalesce(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, false)::text");
        let mut pause = Duration::from_millis(1);
        loop {
            let row = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .fetch_one(&mut *conn)
                .await?;
            if row.try_get::<String, _>(0)? == "true" {
                return Ok(Some(conn));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

#[cfg(feature = "runtime-tokio")]
async fn within<F: Future>(wait: Duration, future: F) -> Option<F::Output> {
    tokio::time::timeout(wait, future).await.ok()
}

#[cfg(feature = "runtime-tokio")]
async fn sleep(pause: Duration) {
    tokio::time::sleep(pause).await;
}

// Without tokio's timer: no bound on the connection, and polls without a pause.
#[cfg(not(feature = "runtime-tokio"))]
async fn within<F: Future>(_wait: Duration, future: F) -> Option<F::Output> {
    Some(future.await)
}

#[cfg(not(feature = "runtime-tokio"))]
async fn sleep(_pause: Duration) {}

/// Whether `error` says the server cannot be reached (rather than that the session was
/// refused, which the primary would refuse too).
pub(crate) fn unreachable(error: &QueryError) -> bool {
    match error {
        QueryError::Database(e) => match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // 08: connection exception; 57: operator intervention (shutting down, starting
            // up, a conflict with recovery).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_text() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!(lsn > "16/B374D847".parse().unwrap());
        assert!(lsn < "17/0".parse().unwrap());
        assert!("16B374D848".parse::<Lsn>().is_err());
        assert!("x/1".parse::<Lsn>().is_err());
    }
}
