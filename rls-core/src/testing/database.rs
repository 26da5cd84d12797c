//! A fresh database per test: created on the shared cluster, migrated by its owner, with a
//! login role as an application should have one.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use super::cluster::{admin_url, connect_admin, database_url, redact, server_state};
use super::probe::Probe;
use crate::model::{RoleKind, SchemaDef};
use crate::{Database, Schema};

/// The application login role every test database shares (roles belong to the cluster):
/// LOGIN NOINHERIT, owning nothing, holding no grants of its own, member of the session roles.
pub const LOGIN_ROLE: &str = "rls_app";
#[doc(hidden)]
pub const LOGIN_PASSWORD: &str = "rls_app";

/// Connections the login role's pool may open; the owner's pool opens as many.
const POOL_SIZE: u32 = 5;

/// Serializes role changes across tests and test processes: `CREATE ROLE` and `GRANT` of the
/// same role racing each other fail with "tuple concurrently updated".
const ROLE_LOCK: i64 = 7_262_001;

/// A database of its own for one test, on the cluster shared by the test process (see
/// [`crate::testing`]). Nothing drops it: the throwaway cluster goes away with the process.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    name: String,
    url: String,
    owner: PgPool,
    /// The schema it was made with: its roles are the login role's session roles.
    schema: Option<SchemaDef>,
    app: Option<Database>,
    /// The maintenance database of each server the database is on, where the login role is
    /// made: the shared cluster, or the Citus cluster's coordinator and workers (roles belong
    /// to a server). The first one holds the lock of role changes.
    servers: Vec<String>,
}

impl TestDatabase {
    /// A new database with `schema`'s migration (what `gen-migrations` writes for it from
    /// nothing) applied by the owner, and sessions through the login role [`LOGIN_ROLE`],
    /// checked as [`Database::new`] checks it. Panics, saying why, when any step fails.
    pub async fn new(schema: &Schema) -> TestDatabase {
        let def = SchemaDef::from(schema);
        let sql = crate::migration::migration(&def).unwrap_or_else(|errors| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!(
                "the schema has errors, fix them first:\n{}",
                list.join("\n")
            )
        });
        let mut db = TestDatabase::empty().await;
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&db.owner)
            .await
            .unwrap_or_else(|e| panic!("applying the schema's migration to {}: {e}", db.name));
        db.schema = Some(def);
        db.app = Some(db.login(POOL_SIZE).await);
        db
    }

    /// A new database with the migrations of `migrator` applied by the owner: the committed
    /// files, as production runs them (`TestDatabase::migrated(&sqlx::migrate!(), &SCHEMA)`).
    /// `schema` names the session roles the login role is given.
    pub async fn migrated(migrator: &sqlx::migrate::Migrator, schema: &Schema) -> TestDatabase {
        let db = TestDatabase::empty().await;
        db.run_migrations(migrator).await;
        db.logged_in(schema).await
    }

    /// A new, empty database (`rls_test_<pid>_<n>`), for tests that build their tables
    /// themselves; [`TestDatabase::login_pool`] gives the login role once the roles exist.
    pub async fn empty() -> TestDatabase {
        let name = TestDatabase::next_name();
        let admin = admin_url();
        let mut conn = connect_admin(&admin).await;
        // A database of that name can only be left over from an earlier run whose process
        // had the same pid (only possible with DATABASE_URL).
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{statement} failed on {}: {e} (the user needs the CREATEDB privilege){}",
                        redact(&admin),
                        server_state()
                    )
                });
        }
        let _ = conn.close().await;
        TestDatabase::open(name.clone(), database_url(&name), vec![admin]).await
    }

    /// A name for a new database, `rls_test_<pid>_<n>`, unique in the process.
    pub(super) fn next_name() -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        format!(
            "rls_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The database `name` at `url`, created on `servers` (their maintenance databases):
    /// connects its owner's pool.
    pub(super) async fn open(name: String, url: String, servers: Vec<String>) -> TestDatabase {
        let owner = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("could not connect to {}: {e}", redact(&url)));
        TestDatabase {
            name,
            url,
            owner,
            schema: None,
            app: None,
            servers,
        }
    }

    /// Applies `migrator`'s migrations as the owner.
    pub(super) async fn run_migrations(&self, migrator: &sqlx::migrate::Migrator) {
        migrator
            .run(&self.owner)
            .await
            .unwrap_or_else(|e| panic!("running the migrations on {}: {e}", self.name));
    }

    /// The database, made with `schema`, with its application [`Database`].
    pub(super) async fn logged_in(mut self, schema: &Schema) -> TestDatabase {
        self.schema = Some(SchemaDef::from(schema));
        self.app = Some(self.login(POOL_SIZE).await);
        self
    }

    /// The database's name (`rls_test_<pid>_<n>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// URL of the database, as its owner (the cluster's superuser, or `DATABASE_URL`'s user).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool of the owner: fixtures, catalog queries, anything the policies must not
    /// decide. The owner is not subject to the policies (unless a table forces them).
    pub fn owner(&self) -> &PgPool {
        &self.owner
    }

    /// The application's [`Database`]: pooled connections of the login role, for sessions.
    /// Panics on a database made with [`TestDatabase::empty`].
    pub fn app(&self) -> &Database {
        self.app.as_ref().expect(
            "TestDatabase::empty() has no login role: use TestDatabase::new(&SCHEMA), or \
             login_pool() once the migration has created the session roles",
        )
    }

    /// A pool of at most `max_connections` connections of the login role [`LOGIN_ROLE`],
    /// made a member of the session roles: `authenticated` and `anonymous`, and every role
    /// the schema the database was made with names (those that exist by now).
    pub async fn login_pool(&self, max_connections: u32) -> PgPool {
        let options = self.login_options().await;
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("could not connect as {LOGIN_ROLE}: {e}"))
    }

    /// How [`TestDatabase::login_pool`] connects, once the login role is a member of the
    /// session roles: for pools of the login role made otherwise (through a pooler, to a
    /// replica).
    #[doc(hidden)]
    pub async fn login_options(&self) -> PgConnectOptions {
        let mut roles = vec!["authenticated".to_owned(), "anonymous".to_owned()];
        if let Some(schema) = &self.schema {
            let named = schema
                .roles()
                .into_iter()
                .filter(|r| r.kind != RoleKind::Keyword);
            roles.extend(named.map(|r| r.name.into_owned()));
        }
        grant_session_roles(&self.servers, &roles).await;
        let options: PgConnectOptions = self.url.parse().expect("test database URL");
        options.username(LOGIN_ROLE).password(LOGIN_PASSWORD)
    }

    async fn login(&self, max_connections: u32) -> Database {
        let pool = self.login_pool(max_connections).await;
        Database::new(pool).await.unwrap_or_else(|e| {
            panic!("the login role {LOGIN_ROLE} could bypass the policies: {e}")
        })
    }

    /// Runs a builder's statement as the owner, bypassing the policies: fixture rows.
    /// Returns the rows written (or read). Panics on error.
    pub async fn seed(&self, statement: impl Probe) -> u64 {
        let prepared = statement.prepare();
        let sql = prepared.sql().to_owned();
        let mut conn = self.owner.acquire().await.expect("an owner connection");
        prepared
            .run(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("seeding with `{sql}` failed: {e}"))
    }

    /// Fails, saying how to install it, when the server cannot create `extension`: a test
    /// that needs an extension never skips.
    pub async fn require_extension(&self, extension: &str, install: &str) {
        let available: bool = sqlx::query_scalar(
            "select exists (select from pg_available_extensions where name = $1)",
        )
        .bind(extension)
        .fetch_one(&self.owner)
        .await
        .expect("pg_available_extensions");
        assert!(
            available,
            "this test needs the PostgreSQL extension {extension}, which the server does not have: {install}"
        );
    }
}

/// Takes the lock of role changes on the server of maintenance database `admin` (an advisory
/// lock of that database; [`release_role_lock`] releases it): whoever changes roles there,
/// the harness or Citus on its behalf, holds it.
pub(super) async fn role_lock(admin: &str) -> PgConnection {
    let mut conn = connect_admin(admin).await;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(ROLE_LOCK)
        .execute(&mut conn)
        .await
        .expect("advisory lock");
    conn
}

pub(super) async fn release_role_lock(mut conn: PgConnection) {
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(ROLE_LOCK)
        .execute(&mut conn)
        .await
        .expect("advisory unlock");
    let _ = conn.close().await;
}

/// On each of `servers` (maintenance database URLs; the lock is the first one's): creates the
/// login role if needed and makes it a member of those of `roles` that exist there.
async fn grant_session_roles(servers: &[String], roles: &[String]) {
    let lock = role_lock(&servers[0]).await;
    for server in servers {
        let mut admin = connect_admin(server).await;
        grant_on_server(&mut admin, roles).await;
        let _ = admin.close().await;
    }
    release_role_lock(lock).await;
}

async fn grant_on_server(admin: &mut PgConnection, roles: &[String]) {
    let setup = async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOGIN_ROLE}') THEN
                    CREATE ROLE {LOGIN_ROLE} LOGIN NOINHERIT PASSWORD '{LOGIN_PASSWORD}';
                END IF;
            END $$"
        )))
        .execute(&mut *admin)
        .await?;
        sqlx::query(
            "select format('GRANT %I TO %I', rolname, $2) from pg_roles \
             where rolname = any($1) and not pg_has_role($2, oid, 'MEMBER')",
        )
        .bind(roles)
        .bind(LOGIN_ROLE)
        .fetch_all(&mut *admin)
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|r| sqlx::Row::get::<String, _>(&r, 0))
                .collect::<Vec<_>>()
        })
    };
    let grants = setup.await.unwrap_or_else(|e| {
        panic!("creating the login role {LOGIN_ROLE}: {e} (the user needs CREATEROLE)")
    });
    for grant in grants {
        sqlx::query(AssertSqlSafe(grant.clone()))
            .execute(&mut *admin)
            .await
            .unwrap_or_else(|e| panic!("{grant}: {e}"));
    }
}
