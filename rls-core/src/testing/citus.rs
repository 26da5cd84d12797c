//! A Citus cluster shared by the tests of one process, for tests of the policies on
//! distributed tables: a coordinator and two workers, three throwaway servers like the shared
//! cluster's (each in a temporary directory of its own, on a free port of 127.0.0.1, stopped
//! and removed when the process exits, however it exits), loading Citus 13.2.
//!
//! ```ignore
//! use pgrls::testing::TestDatabase;
//!
//! #[tokio::test]
//! async fn tasks_stay_in_their_organization() {
//!     // On the coordinator, with the migrations applied and the login role on every node.
//!     let db = TestDatabase::citus_migrated(&sqlx::migrate!(), &SCHEMA).await;
//!     sqlx::raw_sql("select create_distributed_table('tasks', 'org_id')")
//!         .execute(db.owner())
//!         .await
//!         .unwrap();
//!     db.user("alice").sees(Task::select()).rows(|t| t.title.clone(), ["a"]).await;
//! }
//! ```
//!
//! `DATABASE_URL` is not used: the cluster is always a throwaway one, since Citus needs every
//! node configured for it (below) and registered in each database. When Citus 13.2 is not
//! installed for the PostgreSQL the harness runs, every test that asks for it fails saying
//! so: none is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::TestDatabase;
use super::cluster::{Guardian, server_bindir, server_url, start_server, with_database};
use super::database::{release_role_lock, role_lock};
use crate::Schema;

/// What every node's `postgresql.conf` gets, after the harness's own settings (which trust
/// every local and 127.0.0.1 connection: the nodes connect to each other as the client's
/// user, without a password).
const NODE_CONF: &str = "\
# Added by the pgrls Citus harness.
# Citus hooks the planner and executor: it must be loaded when the server starts.
shared_preload_libraries = 'citus'
# A SET LOCAL in a transaction on the coordinator is sent on to the workers the transaction
# reaches: a session's SET LOCAL ROLE and SET LOCAL request.jwt.claims, what the policies
# read, must be in force where the shards are read. On every node: with its metadata synced,
# a worker can run distributed statements too.
citus.propagate_set_commands = 'local'
# The nodes talk over loopback: no TLS. (Citus's default requires it, and its CREATE
# EXTENSION would then turn ssl on with a self-signed certificate of its own.)
citus.node_conninfo = 'sslmode=disable'
# Distributed transactions commit on the workers with two-phase commit.
max_prepared_transactions = 200
# Tests connect in parallel, and the coordinator opens connections to the workers for them.
max_connections = 300
# Citus starts a maintenance daemon, a background worker, per database on each node: one
# per test database.
max_worker_processes = 64
# 8 shards a distributed table (Citus's default is 32): fewer tasks and connections per
# statement on 2 cores, still several shards on each worker.
citus.shard_count = 8
";

/// The version the harness wants: the `default_version` of `citus.control` starts with it.
const CITUS_MINOR: &str = "13.2";

/// The three servers, started on first use and kept for the process's life.
///
/// Most tests need only [`TestDatabase::citus_empty`] or [`TestDatabase::citus_migrated`];
/// this type gives the nodes' URLs, to look at what reached a worker.
pub struct CitusCluster {
    coordinator: u16,
    workers: [u16; 2],
    /// Never dropped (a static): their stdin pipes close when the process exits, and they
    /// then stop their servers and remove their directories.
    _guardians: Vec<Guardian>,
}

/// Start-up errors are remembered, so that every test fails with the same message instead
/// of each one trying to start the cluster again.
static CITUS: OnceLock<Result<CitusCluster, String>> = OnceLock::new();

impl CitusCluster {
    /// The cluster of this test process, started on first use (the three servers at once).
    /// Panics, saying why, when Citus 13.2 is not installed or a server does not start.
    pub fn shared() -> &'static CitusCluster {
        match CITUS.get_or_init(start) {
            Ok(cluster) => cluster,
            Err(msg) => panic!("{msg}"),
        }
    }

    /// The coordinator's port on 127.0.0.1.
    pub fn coordinator_port(&self) -> u16 {
        self.coordinator
    }

    /// The workers' ports on 127.0.0.1.
    pub fn worker_ports(&self) -> [u16; 2] {
        self.workers
    }

    /// URL of `database` on the coordinator, as the superuser `postgres`.
    pub fn coordinator_url(&self, database: &str) -> String {
        with_database(&server_url(self.coordinator), database)
    }

    /// URLs of `database` on the workers, as the superuser `postgres`: what reached them
    /// (shards are tables named `<table>_<shard id>`, left out of `pg_tables` and `\d` by
    /// Citus but readable by name).
    pub fn worker_urls(&self, database: &str) -> [String; 2] {
        self.workers
            .map(|port| with_database(&server_url(port), database))
    }

    /// Every node's port, the coordinator's first.
    fn ports(&self) -> [u16; 3] {
        [self.coordinator, self.workers[0], self.workers[1]]
    }
}

fn start() -> Result<CitusCluster, String> {
    require_citus()?;
    let names = [
        "rls-citus-coordinator",
        "rls-citus-worker-1",
        "rls-citus-worker-2",
    ];
    // initdb and start-up take a second or two each: the three at once.
    let started: Vec<Result<(Guardian, u16), String>> = std::thread::scope(|scope| {
        let handles = names.map(|name| scope.spawn(move || start_server(name, NODE_CONF)));
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("starting a Citus node panicked".to_owned()))
            })
            .collect()
    });
    let mut guardians = Vec::new();
    let mut ports = Vec::new();
    let mut errors = Vec::new();
    for (name, result) in names.iter().zip(started) {
        match result {
            Ok((guardian, port)) => {
                guardians.push(guardian);
                ports.push(port);
            }
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    if !errors.is_empty() {
        // Those that started are stopped and removed before the error is reported.
        guardians.into_iter().for_each(Guardian::stop);
        return Err(format!(
            "could not start the Citus cluster:\n{}",
            errors.join("\n")
        ));
    }
    Ok(CitusCluster {
        coordinator: ports[0],
        workers: [ports[1], ports[2]],
        _guardians: guardians,
    })
}

/// Fails, saying how to install it, when the PostgreSQL the harness runs has no Citus 13.2
/// (`citus.so` under `pg_config --pkglibdir`, `citus.control` of 13.2 under
/// `pg_config --sharedir`/extension); the same check as `pg_has_citus` in scripts/common.sh.
fn require_citus() -> Result<(), String> {
    let bindir = server_bindir()?;
    let major = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let digits = text
                .split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty());
            digits.map(str::to_owned)
        })
        .unwrap_or_else(|| "?".to_owned());
    let missing = match pg_config_of(&bindir) {
        None => format!(
            "no pg_config for the server binaries in {}, to find PostgreSQL's library folder",
            bindir.display()
        ),
        Some(pg_config) => {
            let lib = PathBuf::from(pg_config_dir(&pg_config, "--pkglibdir"));
            let control =
                Path::new(&pg_config_dir(&pg_config, "--sharedir")).join("extension/citus.control");
            let versioned = std::fs::read_to_string(&control).is_ok_and(|text| {
                text.lines()
                    .any(|l| l.starts_with(&format!("default_version = '{CITUS_MINOR}-")))
            });
            if lib.join("citus.so").is_file() && versioned {
                return Ok(());
            }
            format!(
                "no citus.so in {}, or no Citus {CITUS_MINOR} in {}",
                lib.display(),
                control.display()
            )
        }
    };
    Err(format!(
        "Citus {CITUS_MINOR} is not installed for PostgreSQL {major}: run scripts/test-citus \
         (it builds it from third_party/ as root: scripts/install-citus)\n(found {missing})"
    ))
}

/// The pg_config of the server binaries in `bindir`: theirs, else the one on PATH if it
/// describes that folder (as `pg_config_of` in scripts/common.sh).
fn pg_config_of(bindir: &Path) -> Option<PathBuf> {
    let own = bindir.join("pg_config");
    if own.is_file() {
        return Some(own);
    }
    let on_path = PathBuf::from("pg_config");
    let dir = PathBuf::from(pg_config_dir(&on_path, "--bindir"));
    let same = dir.canonicalize().ok()? == bindir.canonicalize().ok()?;
    same.then_some(on_path)
}

/// What `pg_config <flag>` prints (empty when it cannot run).
fn pg_config_dir(pg_config: &Path, flag: &str) -> String {
    Command::new(pg_config)
        .arg(flag)
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl TestDatabase {
    /// A new, empty database on the Citus cluster ([`CitusCluster::shared`], started on first
    /// use), the [`TestDatabase::empty`] of Citus: created on the coordinator and both
    /// workers, with `CREATE EXTENSION citus` on each, and the workers added to the
    /// coordinator's metadata (`citus_set_coordinator_host`, `citus_add_node`).
    /// [`TestDatabase::url`] and [`TestDatabase::owner`] are the coordinator's; the login
    /// role is made on every node, since roles belong to a server. Panics, saying why, when
    /// a step fails.
    pub async fn citus_empty() -> TestDatabase {
        let cluster = CitusCluster::shared();
        let name = TestDatabase::next_name();
        let nodes = cluster.ports();
        let created: Vec<_> = nodes
            .iter()
            .map(|&port| tokio::spawn(create_on_node(port, name.clone())))
            .collect();
        for task in created {
            if let Err(e) = task.await {
                match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(e) => panic!("creating {name} on a Citus node: {e}"),
                }
            }
        }
        add_workers(cluster, &name).await;
        let servers = nodes.iter().map(|&port| server_url(port)).collect();
        TestDatabase::open(name.clone(), cluster.coordinator_url(&name), servers).await
    }

    /// [`TestDatabase::migrated`] on the Citus cluster: [`TestDatabase::citus_empty`], then
    /// the migrations of `migrator` applied by the owner on the coordinator, then the login
    /// role made a member of the session roles on every node.
    ///
    /// Citus sends the migrations' role statements on to the workers, where concurrent
    /// changes of one role fail ("tuple concurrently updated"): the migrations of the Citus
    /// databases of a test process run one at a time.
    pub async fn citus_migrated(
        migrator: &sqlx::migrate::Migrator,
        schema: &Schema,
    ) -> TestDatabase {
        let db = TestDatabase::citus_empty().await;
        let lock = role_lock(&server_url(CitusCluster::shared().coordinator)).await;
        db.run_migrations(migrator).await;
        release_role_lock(lock).await;
        db.logged_in(schema).await
    }
}

/// `CREATE DATABASE name` on the node on `port`, then `CREATE EXTENSION citus` in it.
async fn create_on_node(port: u16, name: String) {
    let admin = server_url(port);
    let url = with_database(&admin, &name);
    for (url, statement) in [
        (&admin, format!("CREATE DATABASE {name}")),
        (&url, "CREATE EXTENSION citus".to_owned()),
    ] {
        let mut conn = PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("could not connect to the Citus node on port {port}: {e}"));
        sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement} on the Citus node on port {port}: {e}"));
        let _ = conn.close().await;
    }
}

/// Registers the coordinator and adds both workers, in database `name` on the coordinator.
/// Adding a node copies the roles to it (creating or altering them there): under the lock of
/// role changes, which the harness's own role changes on the workers also take.
async fn add_workers(cluster: &CitusCluster, name: &str) {
    let lock = role_lock(&server_url(cluster.coordinator)).await;
    let url = cluster.coordinator_url(name);
    let mut conn = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("could not connect to the Citus coordinator: {e}"));
    let mut statements = vec![format!(
        "SELECT citus_set_coordinator_host('127.0.0.1', {})",
        cluster.coordinator
    )];
    for port in cluster.workers {
        statements.push(format!("SELECT citus_add_node('127.0.0.1', {port})"));
    }
    for statement in statements {
        sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement} in {name} on the Citus coordinator: {e}"));
    }
    let _ = conn.close().await;
    release_role_lock(lock).await;
}
