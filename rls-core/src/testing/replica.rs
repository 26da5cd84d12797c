//! A streaming replica of the test cluster, for the project's own tests of read-only sessions
//! on a standby (not a stable API): `pg_basebackup -R` of the primary into a directory of its
//! own, started on another port of 127.0.0.1, stopped and removed when dropped or when the
//! test process exits.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, Row};

use super::cluster::{Guardian, admin_url, free_port, path_str, server_bindir, wait_for_tcp};

/// Copies the primary (`$3`, a connection string) with `pg_basebackup -R` (which writes
/// `primary_conninfo` and `standby.signal`) through a replication slot of its own: without
/// one, the primary may recycle the WAL segment the standby starts streaming from (other
/// tests write meanwhile) and the standby never catches up. Then serves `start N` / `stop N` lines from
/// stdin (and `promote N`), writing `ok`/`failed` to `$1/<command>-N.status`; when stdin closes, stops the
/// server and removes the directory.
const SCRIPT: &str = r#"
trap '' HUP INT
dir=$1 bindir=$2 primary=$3 port=$4
data="$dir/data"
log="$dir/replica.log"
slot="rls_replica_$port"
if "$bindir/pg_basebackup" -R -C -S "$slot" -X stream -c fast -D "$data" -d "$primary" >>"$log" 2>&1 </dev/null; then
  echo ok >"$dir/backup.status"
else
  echo failed >"$dir/backup.status"
fi
while read -r cmd n; do
  case $cmd in
    start)
      if "$bindir/pg_ctl" start -w -t 30 -D "$data" -l "$log" -o "-p $port -k $dir" >>"$log" 2>&1 </dev/null; then
        echo ok >"$dir/start-$n.status"
      else
        echo failed >"$dir/start-$n.status"
      fi
      ;;
    stop)
      if "$bindir/pg_ctl" stop -w -t 60 -D "$data" -m fast >>"$log" 2>&1 </dev/null; then
        echo ok >"$dir/stop-$n.status"
      else
        echo failed >"$dir/stop-$n.status"
      fi
      ;;
    promote)
      if "$bindir/pg_ctl" promote -w -t 60 -D "$data" >>"$log" 2>&1 </dev/null; then
        echo ok >"$dir/promote-$n.status"
      else
        echo failed >"$dir/promote-$n.status"
      fi
      ;;
  esac
done
if [ -f "$data/postmaster.pid" ]; then
  "$bindir/pg_ctl" stop -D "$data" -m immediate -w -t 60 >/dev/null 2>&1 </dev/null
fi
# The slot would keep the primary's WAL forever (on a DATABASE_URL server, past this process).
"$bindir/psql" -X -q -d "$primary" -c "select pg_drop_replication_slot('$slot')" >/dev/null 2>&1 </dev/null
rm -rf "$dir"
"#;

/// A streaming replica of the cluster the tests share, running on [`Replica::port`].
pub struct Replica {
    port: u16,
    guardian: Guardian,
    commands: u32,
}

impl Replica {
    /// Copies the primary and starts the copy as a standby streaming from it. Panics, saying
    /// why, when that is not possible (no `pg_basebackup`, or a primary that refuses
    /// replication connections: with `DATABASE_URL`, its user needs REPLICATION and
    /// `pg_hba.conf` a replication line for it).
    pub fn start() -> Replica {
        Replica::try_start().unwrap_or_else(|e| panic!("could not start a replica: {e}"))
    }

    fn try_start() -> Result<Replica, String> {
        let bindir = server_bindir()?;
        // The cluster's URL (starting it first), a libpq connection string as it is: with
        // `-R`, pg_basebackup writes it into the copy's `primary_conninfo`.
        let primary = admin_url();
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let mut guardian = Guardian::spawn(
            "rls-pg-replica",
            SCRIPT,
            &[path_str(&bindir), primary, port.to_string()],
            "replica.log",
            |_| Ok(()),
        )?;
        let started = guardian
            .wait_status("backup.status", "pg_basebackup", Duration::from_secs(120))
            .map_err(|e| format!("{e}\n{}", guardian.log_tail()));
        if let Err(e) = started {
            guardian.stop();
            return Err(e);
        }
        let mut replica = Replica {
            port,
            guardian,
            commands: 0,
        };
        replica.try_command("start")?;
        wait_for_tcp(port)?;
        Ok(replica)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the replica's server (fast shutdown: its connections are closed).
    pub fn stop(&mut self) {
        self.try_command("stop").unwrap_or_else(|e| panic!("{e}"));
    }

    /// Starts it again after [`Replica::stop`].
    pub fn restart(&mut self) {
        self.try_command("start").unwrap_or_else(|e| panic!("{e}"));
        wait_for_tcp(self.port).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Promotes the replica (`pg_ctl promote`): a primary of its own from then on, accepting
    /// writes and streaming from nothing, with everything the shared cluster held when it was
    /// copied. [`Replica::stop`] and [`Replica::restart`] then restart a primary that no
    /// other test uses (`tests/faults.rs`); the shared cluster is never restarted.
    pub fn promote(&mut self) {
        self.try_command("promote")
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn try_command(&mut self, command: &str) -> Result<(), String> {
        self.commands += 1;
        let n = self.commands;
        self.guardian.send(&format!("{command} {n}\n"))?;
        self.guardian
            .wait_status(
                &format!("{command}-{n}.status"),
                &format!("{command} the replica"),
                Duration::from_secs(90),
            )
            .map_err(|e| format!("{e}\n{}", self.guardian.log_tail()))
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    /// Panics after a minute.
    pub async fn catch_up(&self) {
        let mut primary = PgConnection::connect(&admin_url())
            .await
            .unwrap_or_else(|e| panic!("the primary: {e}"));
        // The test cluster commits asynchronously, and WAL that nothing flushes reaches the
        // replica only with the next flush (for an idle server, the standby snapshot logged
        // every 15 s): a synchronous commit of its own flushes everything before it.
        for sql in ["set synchronous_commit = on", "select txid_current()"] {
            sqlx::raw_sql(sql)
                .execute(&mut primary)
                .await
                .unwrap_or_else(|e| panic!("{sql} on the primary: {e}"));
        }
        let target: String = sqlx::raw_sql("select pg_current_wal_flush_lsn()::text")
            .fetch_one(&mut primary)
            .await
            .and_then(|row| row.try_get(0))
            .unwrap_or_else(|e| panic!("the primary's WAL position: {e}"));
        let _ = primary.close().await;
        let options: sqlx::postgres::PgConnectOptions =
            admin_url().parse().expect("the cluster's URL");
        let mut replica = PgConnection::connect_with(&options.port(self.port))
            .await
            .unwrap_or_else(|e| panic!("the replica: {e}"));
        let check =
            format!("select coalesce(pg_last_wal_replay_lsn() >= '{target}'::pg_lsn, false)::text");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let replayed: String = sqlx::raw_sql(sqlx::AssertSqlSafe(check.clone()))
                .fetch_one(&mut replica)
                .await
                .and_then(|row| row.try_get(0))
                .unwrap_or_else(|e| panic!("the replica's replay position: {e}"));
            if replayed == "true" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the replica has not replayed {target} after a minute:\n{}",
                self.guardian.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = replica.close().await;
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.guardian.close();
    }
}
