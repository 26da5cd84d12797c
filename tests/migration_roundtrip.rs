//! Property test of the incremental migrations: for random schema pairs (A, B), the database
//! migrated from A to B (A's full migration, then `diff(A, B)`) holds exactly what B's full
//! migration creates from scratch, as `pgrls::introspect` reads the catalog; and the rows put
//! in A before the diff are still there (see below).
//!
//! ```sh
//! cargo test -q --test migration_roundtrip                       # 200 pairs, random seed (fixed when CI is set)
//! RLS_SEED=123 RLS_ROUNDTRIP_PAIRS=20 cargo test -q --test migration_roundtrip
//! RLS_SEED=123 RLS_ROUNDTRIP_PAIR=17 cargo test -q --test migration_roundtrip -- --nocapture
//! ```
//!
//! `RLS_SEED` fixes the pairs (each pair only depends on the seed and its index, so
//! `RLS_ROUNDTRIP_PAIR=i` replays pair `i` alone); `RLS_ROUNDTRIP_WORKERS` (default 2) sets how
//! many pairs run at once; `RLS_ROUNDTRIP_STATS=1` prints how often each kind of change was
//! drawn; `RLS_ROUNDTRIP_READS` (default 20) sets the percent of policy atoms that read a
//! claim, another table (a sub-select) or a lookup (see `roundtrip/cross.rs`). Every pair
//! gets two databases (X: A then the diff; Y: B) on the harness's cluster; between pairs
//! their schemas are dropped and created again, which is much faster than new databases. Each migration file runs in one transaction, as sqlx runs
//! them; a diff that is two files (new enum values first, see `diff::Split`) runs as two, and
//! the first file's snapshot must diff to exactly the second.
//!
//! Data: random rows valid under A (`roundtrip/rows.rs`) go into X before the diff. After
//! it, every table B keeps holds the same rows over every column B keeps without a change
//! the plan marks destructive (renamed tables and columns followed; same row counts). When
//! B refuses some rows (a NOT NULL, unique, check or foreign key added, a type narrowed, an
//! enum value dropped: SQLSTATE class 22 or 23, and only if the plan has such a change),
//! the table PostgreSQL names (every table when it names none) is emptied and the file run
//! again; the summary counts those tables.

mod support;

#[path = "roundtrip/generate.rs"]
mod generate;

#[path = "roundtrip/bugs.rs"]
mod bugs;

#[path = "roundtrip/rows.rs"]
mod rows;

#[path = "schemas/changes.rs"]
#[allow(dead_code)]
mod changes;

use generate::{Gen, Rng, custom_roles, features, known_bug, renames, shapes, validate};
use rls_core::diff::{self, Options};
use rls_core::introspect::{self, DbEnum, DbTable};
use rls_core::model::{SchemaDef, TableDef};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The schemas the generated tables and enums live in.
const SCHEMAS: [&str; 2] = ["public", "app"];

/// Attempts at a valid B before A is drawn again.
const ATTEMPTS: usize = 20;

/// Failures printed in full (the rest are listed by index).
const PRINTED_FAILURES: usize = 5;

/// A pair: A, B (as migrated: RLS kept on where A had it) and what was done to A to get B.
struct Pair {
    a: Vec<TableDef>,
    b: Vec<TableDef>,
    changes: Vec<String>,
    /// B's drawn before this one that `pgrls::check` refused.
    skipped: usize,
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

fn generate_pair(seed: u64, index: usize, avoided: &mut BTreeMap<&'static str, usize>) -> Pair {
    let mut g = Gen::new(seed, index);
    let mut skipped = 0;
    loop {
        let a = g.schema();
        validate(&a).unwrap_or_else(|e| panic!("generator bug in A of pair {index}: {e}"));
        if rls_core::check::check_tables(&a.iter().collect::<Vec<_>>()).is_err() {
            skipped += 1;
            continue;
        }
        if let Some(flag) = known_bug(&a, None) {
            *avoided.entry(flag).or_default() += 1;
            continue;
        }
        let saved = g.save();
        for attempt in 0..ATTEMPTS {
            g.restore(&saved, attempt);
            let mut b = a.clone();
            let mut changes = Vec::new();
            let wanted = g.rng.range(1, 5);
            let mut tries = 0;
            while changes.len() < wanted && tries < 200 {
                tries += 1;
                if let Some(what) = g.mutate(&a, &mut b) {
                    changes.push(what);
                }
            }
            validate(&b).unwrap_or_else(|e| {
                panic!(
                    "generator bug in B of pair {index}: {e}\nchanges:\n  {}",
                    changes.join("\n  ")
                )
            });
            // B as the database holds it after the diff (RLS kept on where A had it); a B
            // that `check` refuses is drawn again.
            let Ok(b) = migrated(&a, b) else {
                skipped += 1;
                continue;
            };
            if let Some(flag) = known_bug(&a, Some(&b)) {
                *avoided.entry(flag).or_default() += 1;
                continue;
            }
            return Pair {
                a,
                b,
                changes,
                skipped,
            };
        }
    }
}

fn def(tables: &[TableDef]) -> SchemaDef {
    SchemaDef::from_tables(tables.to_vec())
}

/// B as the database holds it after `diff(A, B)`: row-level security kept on where A had it.
fn migrated(a: &[TableDef], b: Vec<TableDef>) -> Result<Vec<TableDef>, diff::DiffError> {
    let allow = Options {
        allow_destructive: true,
    };
    diff::diff(&def(a), &SchemaDef::from_tables(b), allow).map(|plan| plan.next.tables)
}

/// Runs `sql` in one transaction.
async fn apply(conn: &mut PgConnection, sql: &str) -> Result<(), String> {
    apply_file(conn, sql).await.map_err(|e| e.message)
}

/// Why a migration file failed: the message, and for a failure on the rows (SQLSTATE
/// class 22 or 23) the table PostgreSQL names, if any.
struct Failure {
    message: String,
    on_rows: bool,
    table: Option<(String, String)>,
}

/// Runs `sql` in one transaction, as sqlx runs a migration file.
async fn apply_file(conn: &mut PgConnection, sql: &str) -> Result<(), Failure> {
    let plain = |message: String| Failure {
        message,
        on_rows: false,
        table: None,
    };
    if sql.trim().is_empty() {
        return Ok(());
    }
    let mut tx = conn.begin().await.map_err(|e| plain(e.to_string()))?;
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *tx)
        .await
    {
        let mut failure = plain(describe_error(&e));
        if let sqlx::Error::Database(d) = &e
            && let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        {
            failure.on_rows = pg.code().starts_with("22") || pg.code().starts_with("23");
            if let (Some(schema), Some(table)) = (pg.schema(), pg.table()) {
                failure.table = Some((schema.to_string(), table.to_string()));
            }
        }
        return Err(failure);
    }
    tx.commit().await.map_err(|e| plain(e.to_string()))
}

fn describe_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            let mut out = d.message().to_string();
            if let Some(code) = d.code() {
                out.push_str(&format!(" (SQLSTATE {code})"));
            }
            if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                if let Some(detail) = pg.detail() {
                    out.push_str(&format!("; detail: {detail}"));
                }
                if let Some(hint) = pg.hint() {
                    out.push_str(&format!("; hint: {hint}"));
                }
            }
            out
        }
        other => other.to_string(),
    }
}

/// Back to an empty database: the schemas the migrations fill are dropped and `public` is
/// created again as PostgreSQL 15 creates it.
async fn reset(conn: &mut PgConnection) {
    sqlx::raw_sql(
        "DROP SCHEMA IF EXISTS public, app, auth CASCADE;
         CREATE SCHEMA public;
         ALTER SCHEMA public OWNER TO pg_database_owner;
         GRANT USAGE ON SCHEMA public TO PUBLIC;",
    )
    .execute(conn)
    .await
    .expect("reset the database");
}

type SchemaPrivileges = Vec<(String, String, String)>;

/// The functions of a database by (schema, name, arguments): their definition
/// (`pg_get_functiondef`: return type, language, volatility, SECURITY DEFINER, settings,
/// body) and who may execute them (`grantee privilege`, sorted, the owner left out; a NULL
/// ACL as PostgreSQL's default, EXECUTE to PUBLIC).
type Functions = BTreeMap<(String, String, String), (String, Vec<String>)>;

const FUNCTIONS: &str = "\
select n.nspname::text, p.proname::text, pg_catalog.pg_get_function_identity_arguments(p.oid),
    pg_catalog.pg_get_functiondef(p.oid),
    array(select case when a.grantee = 0 then 'PUBLIC'
                else pg_catalog.pg_get_userbyid(a.grantee)::text end
            || ' ' || a.privilege_type
        from pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
        where a.grantee <> p.proowner
        order by 1)
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname::text = any($1::text[])";

/// The functions of the model's schemas (the `#[lookup]`s) and of `auth`.
async fn functions(conn: &mut PgConnection) -> Functions {
    let schemas: Vec<String> = SCHEMAS
        .iter()
        .chain(&["auth"])
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<(String, String, String, String, Vec<String>)> = sqlx::query_as(FUNCTIONS)
        .bind(&schemas)
        .fetch_all(conn)
        .await
        .expect("introspect functions");
    rows.into_iter()
        .map(|(schema, name, args, def, acl)| ((schema, name, args), (def, acl)))
        .collect()
}

/// What differs between the functions of Y (`expected`) and X (`actual`).
fn function_differences(expected: &Functions, actual: &Functions) -> Vec<String> {
    let mut out = Vec::new();
    let label = |(schema, name, args): &(String, String, String)| {
        format!("function {schema}.{name}({args})")
    };
    for (key, (def, acl)) in expected {
        match actual.get(key) {
            None => out.push(format!("{}: missing from the database", label(key))),
            Some((d, a)) => {
                if d != def {
                    out.push(format!(
                        "{}: defined as\n{}\n    in the model, as\n{}\n    in the database",
                        label(key),
                        indent(def),
                        indent(d)
                    ));
                }
                if a != acl {
                    out.push(format!(
                        "{}: privileges [{}] in the model, [{}] in the database",
                        label(key),
                        acl.join(", "),
                        a.join(", ")
                    ));
                }
            }
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(format!(
            "{}: in the database but not in the model",
            label(key)
        ));
    }
    out
}

async fn introspect_all(conn: &mut PgConnection) -> (Vec<DbTable>, Vec<DbEnum>, SchemaPrivileges) {
    let schemas: Vec<String> = SCHEMAS.iter().map(|s| s.to_string()).collect();
    let tables = introspect::tables(conn, &schemas)
        .await
        .expect("introspect tables");
    let enums = introspect::enums(conn, &schemas)
        .await
        .expect("introspect enums");
    let with_auth: Vec<String> = schemas
        .iter()
        .cloned()
        .chain(["auth".to_string()])
        .collect();
    let usage = introspect::schema_privileges(conn, &with_auth)
        .await
        .expect("introspect schema privileges");
    (tables, enums, usage)
}

/// X: A's migration then the diff; Y: B's migration. Both must apply, and the catalogs must
/// be the same.
/// `verbose`: print the pair, the SQL and what X holds even when all is well (for a pair
/// replayed alone with `RLS_ROUNDTRIP_PAIR`).
/// What happened to the rows of a pair: how many A held, and the tables emptied because B
/// refuses their rows (a constraint added, a type narrowed).
#[derive(Default)]
struct RowStats {
    rows: usize,
    emptied: Vec<String>,
}

async fn check_pair(
    x: &mut PgConnection,
    y: &mut PgConnection,
    pair: &Pair,
    rows_seed: u64,
    stats: &mut RowStats,
    verbose: bool,
) -> Result<(), String> {
    let sql_a = rls_core::migration::migration(&def(&pair.a))
        .map_err(|e| format!("migration(A) refused A: {e:?}"))?;
    let sql_b = rls_core::migration::migration(&def(&pair.b))
        .map_err(|e| format!("migration(B) refused B: {e:?}"))?;
    let plan = diff::diff(
        &def(&pair.a),
        &def(&pair.b),
        Options {
            allow_destructive: true,
        },
    )
    .map_err(|e| format!("diff(A, B) failed: {e}"))?;
    let sql_diff = plan.sql();
    let files = plan.files();

    let same = diff::diff(
        &def(&pair.b),
        &def(&pair.b),
        Options {
            allow_destructive: false,
        },
    )
    .map_err(|e| format!("diff(B, B) failed: {e}"))?;
    let mut problems = Vec::new();
    // A split plan: the first file's snapshot must make the diff to B exactly the second.
    if let Some(split) = &plan.split {
        let rest = diff::diff(
            &split.next,
            &def(&pair.b),
            Options {
                allow_destructive: true,
            },
        )
        .map_err(|e| format!("diff(after the first file, B) failed: {e}"))?;
        if rest.steps != plan.parts()[1].steps {
            problems.push(format!(
                "the diff from the first file's snapshot to B is not the second file:\n{}",
                indent(&rest.sql())
            ));
        }
    }
    if !same.is_empty() {
        problems.push(format!("diff(B, B) is not empty:\n{}", indent(&same.sql())));
    }

    // X before Y, not at the same time: both create the pair's roles (in different orders),
    // and X must not find the roles that only B names already created by Y.
    // A's migration, random rows valid under A, then each file of the diff (two when new
    // enum values go first) in its own transaction, in order, as sqlx runs them.
    let mut rx = apply(x, &sql_a)
        .await
        .map_err(|e| format!("A's full migration failed on X: {e}"));
    let mut before = BTreeMap::new();
    if rx.is_ok() {
        stats.rows = rows::fill(x, &pair.a, &pair.b, &mut Rng::new(rows_seed)).await;
        before = rows::read(x, &pair.a).await;
    }
    let may_refuse = rows::may_refuse_rows(&plan, &pair.a);
    for (k, file) in files.iter().enumerate() {
        while rx.is_ok() {
            match apply_file(x, file).await {
                Ok(()) => break,
                // B refuses some of A's rows (a constraint added, a type narrowed): a
                // failure of the model's data, not of the migration. The table named (every
                // table when none is) is emptied and the file run again.
                Err(f) if f.on_rows && may_refuse && stats.emptied.len() < 2 * pair.a.len() => {
                    // The error names the table as the migration had it (renamed, perhaps).
                    let named = f.table.as_ref().and_then(|(schema, table)| {
                        let old = pair
                            .b
                            .iter()
                            .find(|t| t.schema == *schema && t.name == *table)
                            .and_then(|t| t.renamed_from.as_deref())
                            .unwrap_or(table);
                        pair.a.iter().find(|t| t.schema == *schema && t.name == old)
                    });
                    let targets: Vec<String> = match named {
                        Some(t) => vec![rls_core::sql::quote::qualified(&t.schema, &t.name)],
                        None => pair
                            .a
                            .iter()
                            .map(|t| rls_core::sql::quote::qualified(&t.schema, &t.name))
                            .collect(),
                    };
                    if verbose || std::env::var_os("RLS_DEBUG_ROWS").is_some() {
                        println!(
                            "B refuses rows ({}): emptying {}",
                            f.message,
                            targets.join(", ")
                        );
                    }
                    sqlx::raw_sql(AssertSqlSafe(format!(
                        "TRUNCATE {} CASCADE",
                        targets.join(", ")
                    )))
                    .execute(&mut *x)
                    .await
                    .expect("empty the tables B refuses the rows of");
                    stats.emptied.extend(targets);
                    before = rows::read(x, &pair.a).await;
                }
                Err(f) => {
                    rx = Err(format!(
                        "the diff A -> B (file {} of {}, {} row(s) in A) failed on X: {}",
                        k + 1,
                        files.len(),
                        stats.rows,
                        f.message
                    ))
                }
            }
        }
    }
    // A migration keeps every row and value it does not say it destroys.
    if rx.is_ok() {
        let lost = rows::survived(x, &pair.a, &pair.b, &plan, &before).await;
        if !lost.is_empty() {
            problems.push(format!(
                "the migration lost or changed rows it does not mark destructive:\n  {}",
                lost.join("\n  ")
            ));
        }
    }
    let ry = apply(y, &sql_b)
        .await
        .map_err(|e| format!("B's full migration failed on Y: {e}"));
    let applied = rx.is_ok() && ry.is_ok();
    problems.extend(rx.err());
    problems.extend(ry.err());
    if applied {
        let ((tx, ex, ux), (ty, ey, uy)) = tokio::join!(introspect_all(x), introspect_all(y));
        let (fx, fy) = tokio::join!(functions(x), functions(y));
        let mut diffs = introspect::differences(&ty, &tx);
        diffs.extend(introspect::enum_differences(&ey, &ex));
        diffs.extend(function_differences(&fy, &fx));
        // The diff never revokes USAGE on a schema, so X may hold more; never less.
        for (schema, grantee, privilege) in uy.iter().filter(|u| !ux.contains(u)) {
            diffs.push(format!(
                "schema {schema}: {grantee} lacks {privilege} in the migrated database"
            ));
        }
        if verbose {
            println!(
                "X after the migrations:\n{tx:#?}\n{ex:#?}\nschema privileges: {ux:#?}\nfunctions: {fx:#?}"
            );
        }
        if !diffs.is_empty() {
            problems.push(format!(
                "the migrated database (X) differs from B created from scratch (Y); \"in the model\" is Y, \"in the database\" is X:\n  {}",
                diffs.join("\n  ")
            ));
        } else if tx != ty {
            problems.push(format!(
                "introspect::differences found nothing, but the catalogs differ (column order?):\nX: {tx:#?}\nY: {ty:#?}"
            ));
        }
    }
    if problems.is_empty() && !verbose {
        return Ok(());
    }
    let details = format!(
        "{}\n\nchanges A -> B:\n  {}\nrenames in B: {:?}\nA = {}\nB = {}\n\ndiff A -> B:\n{}",
        if problems.is_empty() {
            "no problem".to_string()
        } else {
            problems.join("\n")
        },
        pair.changes.join("\n  "),
        renames(&pair.b),
        serde_json::to_string(&pair.a).expect("A serializes"),
        serde_json::to_string(&pair.b).expect("B serializes"),
        indent(&sql_diff)
    );
    if problems.is_empty() {
        println!("{details}");
        return Ok(());
    }
    Err(details)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `add column: add column public.t1.c2 text` -> `add column`.
fn change_kind(change: &str) -> String {
    change.split(": ").next().unwrap_or_default().to_string()
}

struct Outcome {
    index: usize,
    failure: Option<String>,
    skipped: usize,
    avoided: BTreeMap<&'static str, usize>,
    /// The kinds of change applied to A (the change's description up to its first name).
    changes: Vec<String>,
    /// How many of them B had to be repaired after (see `roundtrip/cross.rs`).
    repaired: usize,
    /// The shapes the generator once avoided that the pair has.
    shapes: Vec<&'static str>,
    /// The reads of other tables, claims and lookups that A or B has (see `generate::features`).
    features: Vec<&'static str>,
    rows: RowStats,
}

/// The seed of pair `index`'s rows.
fn rows_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0xDA7A
}

/// One hand-written pair, on two new databases: panics with the report if it fails.
async fn run_case(a: Vec<TableDef>, b: Vec<TableDef>) {
    let b = migrated(&a, b).expect("check accepts B");
    let (dx, dy) = (
        pgrls::testing::TestDatabase::empty().await,
        pgrls::testing::TestDatabase::empty().await,
    );
    let mut x = PgConnection::connect(dx.url()).await.expect("connect to X");
    let mut y = PgConnection::connect(dy.url()).await.expect("connect to Y");
    let pair = Pair {
        a,
        b,
        changes: vec!["(written by hand)".into()],
        skipped: 0,
    };
    let mut stats = RowStats::default();
    if let Err(e) = check_pair(&mut x, &mut y, &pair, 7, &mut stats, false).await {
        panic!("{e}");
    }
}

/// One worker: its own two databases, pairs `first, first + step, ...`.
async fn worker(seed: u64, indices: Vec<usize>, verbose: bool) -> Vec<Outcome> {
    let (dx, dy) = (
        pgrls::testing::TestDatabase::empty().await,
        pgrls::testing::TestDatabase::empty().await,
    );
    let mut x = PgConnection::connect(dx.url()).await.expect("connect to X");
    let mut y = PgConnection::connect(dy.url()).await.expect("connect to Y");
    let mut out = Vec::new();
    for index in indices {
        let mut avoided = BTreeMap::new();
        let pair = generate_pair(seed, index, &mut avoided);
        let mut stats = RowStats::default();
        let failure = check_pair(
            &mut x,
            &mut y,
            &pair,
            rows_seed(seed, index),
            &mut stats,
            verbose,
        )
        .await
        .err()
        .map(|e| format!("pair {index} (RLS_SEED={seed} RLS_ROUNDTRIP_PAIR={index}): {e}"));
        tokio::join!(reset(&mut x), reset(&mut y));
        let roles: Vec<String> = custom_roles(index)
            .iter()
            .map(|r| rls_core::sql::quote::ident(r))
            .collect();
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP ROLE IF EXISTS {};",
            roles.join(", ")
        )))
        .execute(&mut x)
        .await
        .expect("drop the pair's roles");
        out.push(Outcome {
            index,
            failure,
            skipped: pair.skipped,
            avoided,
            changes: pair.changes.iter().map(|c| change_kind(c)).collect(),
            repaired: pair
                .changes
                .iter()
                .filter(|c| c.contains("[repair: "))
                .count(),
            shapes: shapes(&pair.a, &pair.b),
            features: {
                let mut f = features(&pair.a);
                f.extend(features(&pair.b));
                f.sort();
                f.dedup();
                f
            },
            rows: stats,
        });
    }
    out
}

/// Issue 9: the hand-written changes of tables that read each other (sub-selects, lookups)
/// migrate to what the new schema builds from nothing, and keep their rows.
#[tokio::test]
async fn cross_table_changes_apply() {
    let owned = |tables: &[&TableDef]| tables.iter().map(|t| (*t).clone()).collect::<Vec<_>>();
    for case in changes::CROSS_TABLE_CASES {
        run_case(owned(case.before), owned(case.after)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_roundtrip() {
    // CI replays one fixed seed, so that a run there is reproducible; elsewhere every run
    // draws new pairs.
    let ci_seed = std::env::var("CI").ok().map(|_| 20_261_126);
    let seed = env_number("RLS_SEED").or(ci_seed).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let pairs = env_number("RLS_ROUNDTRIP_PAIRS").unwrap_or(200) as usize;
    let workers = env_number("RLS_ROUNDTRIP_WORKERS").unwrap_or(2).max(1) as usize;
    let verbose = env_number("RLS_ROUNDTRIP_PAIR").is_some();
    let indices: Vec<usize> = match env_number("RLS_ROUNDTRIP_PAIR") {
        Some(i) => vec![i as usize],
        None => (0..pairs).collect(),
    };
    println!(
        "migration roundtrip: RLS_SEED={seed}, {} pair(s), {workers} worker(s)",
        indices.len()
    );

    // The roles every pair may name (authenticated, anonymous) are left to the migrations,
    // which the workers run at the same time: roles are created in one order (by name), so
    // concurrent migrations do not deadlock on them.

    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers.min(indices.len()) {
        let mine: Vec<usize> = indices.iter().copied().skip(w).step_by(workers).collect();
        handles.push(tokio::spawn(worker(seed, mine, verbose)));
    }
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.extend(h.await.expect("worker panicked"));
    }
    outcomes.sort_by_key(|o| o.index);
    let elapsed: Duration = started.elapsed();

    let skipped: usize = outcomes.iter().map(|o| o.skipped).sum();
    let mut avoided: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        for (flag, n) in &o.avoided {
            *avoided.entry(flag).or_default() += n;
        }
    }
    let avoided: Vec<String> = avoided.iter().map(|(f, n)| format!("{f}: {n}")).collect();
    let mut drawn: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        for shape in &o.shapes {
            *drawn.entry(shape).or_default() += 1;
        }
    }
    let drawn: Vec<String> = drawn.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    let mut reads: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        for f in &o.features {
            *reads.entry(f).or_default() += 1;
        }
    }
    let reads: Vec<String> = reads.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    if std::env::var_os("RLS_ROUNDTRIP_STATS").is_some() {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &outcomes {
            for c in &o.changes {
                *kinds.entry(c).or_default() += 1;
            }
        }
        println!("changes applied, by kind:");
        for (kind, n) in kinds {
            println!("  {n:6}  {kind}");
        }
        let repaired: usize = outcomes.iter().map(|o| o.repaired).sum();
        println!(
            "  ({repaired} of them left a read of a claim, another table or a lookup to repair)"
        );
    }
    let rows: usize = outcomes.iter().map(|o| o.rows.rows).sum();
    let emptied: usize = outcomes.iter().map(|o| o.rows.emptied.len()).sum();
    let with_rows = outcomes.iter().filter(|o| o.rows.rows > 0).count();
    println!(
        "rows: {rows} inserted in A ({with_rows} pair(s) with rows); {emptied} table(s) emptied before the diff because B refuses their rows (a constraint added, a type narrowed)"
    );
    println!(
        "pairs that read elsewhere (in A or B): {}",
        if reads.is_empty() {
            "none".to_string()
        } else {
            reads.join(", ")
        }
    );
    println!(
        "pairs with a shape that once was a bug: {}",
        if drawn.is_empty() {
            "none".to_string()
        } else {
            drawn.join(", ")
        }
    );
    println!(
        "migration roundtrip: {} pair(s) in {:.1?}, {} failure(s); {skipped} generated schema(s) refused by pgrls::check and drawn again; drawn again to avoid known bugs: {}",
        outcomes.len(),
        elapsed,
        failures.len(),
        if avoided.is_empty() {
            "none".to_string()
        } else {
            avoided.join(", ")
        }
    );
    if failures.is_empty() {
        return;
    }
    for f in failures.iter().take(PRINTED_FAILURES) {
        eprintln!("\n=== {}\n", f.failure.as_deref().unwrap_or_default());
    }
    let list: Vec<String> = failures.iter().map(|f| f.index.to_string()).collect();
    panic!(
        "{} of {} pairs failed (RLS_SEED={seed}): pairs {}",
        failures.len(),
        outcomes.len(),
        list.join(", ")
    );
}
