//! `gen-migrations verify`: the live database against the schema. The expected state is
//! built by the server itself, in a scratch database from the schema's full migration, so
//! both sides are deparsed the same way and equivalent text is not drift.

use crate::introspect;
use crate::model::{SchemaDef, distinct};
use crate::sql::{self, quote};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The target of the events `verify` emits ([`tracing`]): the schema's migration applied to
/// the scratch database (debug), the comparison's outcome (info). No URL, no password.
const TRACING_TARGET: &str = "pgrls::migrations";

pub async fn compare(url: &str, expected: &SchemaDef) -> Result<Vec<String>, String> {
    let started = std::time::Instant::now();
    let options: PgConnectOptions = url.parse().map_err(|e| format!("--database-url: {e}"))?;
    let mut live = PgConnection::connect_with(&options)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let schemas = distinct(expected.tables.iter().map(|t| t.schema.to_string()));
    let mut actual = introspect::tables(&mut live, &schemas)
        .await
        .map_err(|e| format!("cannot read the catalog: {e}"))?;
    // sqlx's own bookkeeping is not part of the schema; nor is what shares a schema with an
    // existing table but no table the migrations create (Supabase's `storage.buckets`).
    let managed = expected.schemas();
    let existing = |schema: &str, name: &str| {
        expected
            .tables
            .iter()
            .any(|t| t.existing && t.schema == schema && t.name == name)
    };
    actual.retain(|t| {
        t.name != "_sqlx_migrations"
            && (managed.contains(&t.schema) || existing(&t.schema, &t.name))
    });
    let actual_enums = introspect::enums(&mut live, &managed)
        .await
        .map_err(|e| format!("cannot read the catalog: {e}"))?;
    let actual_lookups = lookups(&mut live, expected)
        .await
        .map_err(|e| format!("cannot read the catalog: {e}"))?;

    let scratch = format!(
        "rls_verify_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {}", quote::ident(&scratch))))
        .execute(&mut live)
        .await
        .map_err(|e| {
            format!(
                "verify builds the expected schema in a scratch database and could not create one: {e} (the role needs CREATEDB)"
            )
        })?;
    let built = build_expected(&options.clone().database(&scratch), expected, &schemas).await;
    let dropped = sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote::ident(&scratch)
    )))
    .execute(&mut live)
    .await;
    let _ = live.close().await;
    let (mut wanted, wanted_enums, wanted_lookups) = built?;
    for t in &mut wanted {
        t.existing = existing(&t.schema, &t.name);
    }
    dropped.map_err(|e| format!("could not drop the scratch database {scratch}: {e}"))?;

    let mut differences = introspect::differences(&wanted, &actual);
    differences.extend(introspect::enum_differences(&wanted_enums, &actual_enums));
    for ((function, wanted), (_, actual)) in wanted_lookups.iter().zip(&actual_lookups) {
        match (wanted, actual) {
            (Some(_), None) => differences.push(format!(
                "function {function}: missing (a #[lookup] of the model)"
            )),
            (Some(w), Some(a)) if w != a => differences.push(format!(
                "function {function}: its definition differs from the #[lookup]'s:\n    expected: {}\n    found:    {}",
                one_line(w),
                one_line(a)
            )),
            _ => {}
        }
    }
    tracing::info!(
        target: TRACING_TARGET,
        tables = expected.tables.len(),
        differences = differences.len(),
        elapsed_secs = started.elapsed().as_secs_f64(),
        "verify: the live database compared with the schema's migrations"
    );
    Ok(differences)
}

type Expected = (
    Vec<introspect::DbTable>,
    Vec<introspect::DbEnum>,
    Vec<(String, Option<String>)>,
);

/// The model's `#[lookup]` functions as the server prints them (`pg_get_functiondef`: the
/// body, SECURITY DEFINER, the search_path), `None` where one is missing; by
/// `schema.name()`.
async fn lookups(
    conn: &mut PgConnection,
    expected: &SchemaDef,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    let mut out = Vec::new();
    for t in &expected.tables {
        for l in t.lookups.iter() {
            let definition: Option<String> = sqlx::query_scalar(
                "select pg_get_functiondef(p.oid) from pg_proc p \
                 join pg_namespace n on n.oid = p.pronamespace \
                 where n.nspname = $1 and p.proname = $2 and p.pronargs = 0",
            )
            .bind(&*t.schema)
            .bind(&*l.name)
            .fetch_optional(&mut *conn)
            .await?;
            out.push((format!("{}.{}()", t.schema, l.name), definition));
        }
    }
    Ok(out)
}

async fn build_expected(
    options: &PgConnectOptions,
    expected: &SchemaDef,
    schemas: &[String],
) -> Result<Expected, String> {
    let mut conn = PgConnection::connect_with(options)
        .await
        .map_err(|e| format!("cannot connect to the scratch database: {e}"))?;
    // The tables alone, as before session roles were part of the schema: verify compares
    // tables, and the roles are the live cluster's.
    let tables = SchemaDef {
        session_roles: Vec::new(),
        ..expected.clone()
    };
    let stand_ins = sql::stand_ins(&tables);
    sqlx::raw_sql(AssertSqlSafe(stand_ins))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot create the existing tables in the scratch database: {e}"))?;
    let migration = crate::migration::migration(&tables).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!("the schema has errors: {}", list.join("; "))
    })?;
    let started = std::time::Instant::now();
    let applied = sqlx::raw_sql(AssertSqlSafe(migration))
        .execute(&mut conn)
        .await;
    tracing::debug!(
        target: TRACING_TARGET,
        database = options.get_database(),
        ok = applied.is_ok(),
        elapsed_secs = started.elapsed().as_secs_f64(),
        "verify: the schema's migration applied to the scratch database"
    );
    applied.map_err(|e| format!("the schema's migration fails on this server: {e}"))?;
    let result = async {
        Ok::<_, sqlx::Error>((
            introspect::tables(&mut conn, schemas).await?,
            introspect::enums(&mut conn, &expected.schemas()).await?,
            lookups(&mut conn, expected).await?,
        ))
    }
    .await
    .map_err(|e| format!("cannot read the scratch catalog: {e}"));
    let _ = conn.close().await;
    result
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
