//! The facts of a live database, read from pg_catalog: every table, function and view of the
//! user's schemas (the system's and extensions' own left out), whether the model manages them
//! or not. Only bound parameters reach the queries.

use super::facts::*;
use crate::model::{Command, Privilege};
use sqlx::PgConnection;
use std::collections::BTreeMap;

/// The user's tables: not the system's, not an extension's, not a partition (its parent has
/// the policies), not sqlx's bookkeeping.
macro_rules! tables {
    () => {
        "with t as (
    select c.oid, n.nspname, c.relname, c.relrowsecurity, c.relowner
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
        and not (n.nspname = 'public' and c.relname = '_sqlx_migrations')
        and not exists (select from pg_catalog.pg_depend d
            where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'))
"
    };
}

const TABLES: &str = concat!(
    tables!(),
    "select oid::int8, nspname::text, relname::text, relrowsecurity from t
order by nspname::text collate \"C\", relname::text collate \"C\""
);

/// Whether Citus is installed: its catalog of placed tables exists.
const HAS_CITUS: &str = "select to_regclass('pg_catalog.pg_dist_partition') is not null";
/// The tables Citus distributes or replicates.
const PLACED: &str = "select logicalrelid::oid::int8 from pg_catalog.pg_dist_partition";

const COLUMNS: &str = concat!(
    tables!(),
    "select a.attrelid::int8, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)
from pg_catalog.pg_attribute a join t on t.oid = a.attrelid
where a.attnum > 0 and not a.attisdropped
order by a.attrelid, a.attnum"
);

const POLICIES: &str = concat!(
    tables!(),
    "select p.polrelid::int8, p.polname::text, p.polpermissive, p.polcmd::text,
    array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end
        from unnest(p.polroles) r),
    pg_catalog.pg_get_expr(p.polqual, p.polrelid),
    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
from pg_catalog.pg_policy p join t on t.oid = p.polrelid
order by p.polrelid, p.polname::text collate \"C\""
);

/// Roles that bypass row-level security (Supabase's `service_role`) are left out: they need
/// no policy, and the login-role lint is the one that minds them.
const GRANTS: &str = concat!(
    tables!(),
    "select t.oid::int8,
    case when a.grantee = 0 then 'public' else pg_catalog.pg_get_userbyid(a.grantee)::text end,
    a.privilege_type
from t join pg_catalog.pg_class c on c.oid = t.oid
cross join lateral pg_catalog.aclexplode(c.relacl) a
where a.grantee <> t.relowner and a.privilege_type in ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
    and not exists (select from pg_catalog.pg_roles r
        where r.oid = a.grantee and (r.rolbypassrls or r.rolsuper))
order by 1, 2, 3"
);

const INDEXES: &str = concat!(
    tables!(),
    "select i.indrelid::int8, ic.relname::text,
    array(select pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
        from generate_series(1, i.indnkeyatts::int) k order by k),
    i.indisunique, pg_catalog.pg_get_expr(i.indpred, i.indrelid)
from pg_catalog.pg_index i join t on t.oid = i.indrelid
join pg_catalog.pg_class ic on ic.oid = i.indexrelid
order by i.indrelid, ic.relname::text collate \"C\""
);

const FOREIGN_KEYS: &str = concat!(
    tables!(),
    "select con.conrelid::int8, con.conname::text,
    array(select a.attname::text from unnest(con.conkey) with ordinality k(num, pos)
        join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num
        order by k.pos)
from pg_catalog.pg_constraint con join t on t.oid = con.conrelid
where con.contype = 'f'
order by con.conrelid, con.conname::text collate \"C\""
);

/// `$1`: the exposed roles. `public` is PUBLIC for the `has_*_privilege` functions; a role
/// that does not exist is skipped (they would raise), by a CASE since AND may evaluate its
/// operands in any order.
const FUNCTIONS: &str = "\
select n.nspname::text, p.proname::text, pg_catalog.pg_get_function_identity_arguments(p.oid),
    l.lanname::text, p.prosecdef,
    exists (select from unnest(p.proconfig) c where c like 'search_path=%'),
    array(select r from unnest($1::text[]) r
        where p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
            and case when r = 'public' then pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')
                when exists (select from pg_catalog.pg_roles x where x.rolname = r)
                    then pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')
                        and pg_catalog.has_schema_privilege(r, n.oid, 'USAGE')
                else false end)
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
where n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%' and p.prokind in ('f', 'p')
    and not exists (select from pg_catalog.pg_depend d
        where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
order by 1, 2, 3";

const VIEWS: &str = "\
select n.nspname::text, c.relname::text,
    exists (select from unnest(c.reloptions) o where o ~* '^security_invoker=(true|on|yes|1)$'),
    array(select r from unnest($1::text[]) r
        where case when r = 'public' or exists (select from pg_catalog.pg_roles x where x.rolname = r)
            then pg_catalog.has_table_privilege(r, c.oid, 'SELECT') else false end)
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'v' and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
    and not exists (select from pg_catalog.pg_depend d
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
order by 1, 2";

type PolicyRow = (
    i64,
    String,
    bool,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
);
type IndexRow = (i64, String, Vec<String>, bool, Option<String>);
type FunctionRow = (String, String, String, String, bool, bool, Vec<String>);

pub async fn read(
    conn: &mut PgConnection,
    exposed_roles: Vec<String>,
) -> Result<Facts, sqlx::Error> {
    let rows: Vec<(i64, String, String, bool)> =
        sqlx::query_as(TABLES).fetch_all(&mut *conn).await?;
    let mut tables: BTreeMap<i64, TableFacts> = BTreeMap::new();
    let mut order = Vec::new();
    for (oid, schema, name, rls) in rows {
        order.push(oid);
        tables.insert(
            oid,
            TableFacts {
                schema,
                name,
                rls,
                columns: Vec::new(),
                policies: Vec::new(),
                grants: Vec::new(),
                indexes: Some(Vec::new()),
                foreign_keys: Vec::new(),
                allowed: Vec::new(),
                on_workers: false,
            },
        );
    }
    // Citus's placed tables, where it is installed (its catalog is absent elsewhere).
    let has_citus: bool = sqlx::query_scalar(HAS_CITUS).fetch_one(&mut *conn).await?;
    let placed: Vec<i64> = if has_citus {
        sqlx::query_scalar(PLACED).fetch_all(&mut *conn).await?
    } else {
        Vec::new()
    };
    for oid in placed {
        if let Some(t) = tables.get_mut(&oid) {
            t.on_workers = true;
        }
    }
    let columns: Vec<(i64, String, String)> = sqlx::query_as(COLUMNS).fetch_all(&mut *conn).await?;
    for (oid, name, ty) in columns {
        if let Some(t) = tables.get_mut(&oid) {
            t.columns.push(ColumnFacts { name, ty });
        }
    }
    let policies: Vec<PolicyRow> = sqlx::query_as(POLICIES).fetch_all(&mut *conn).await?;
    for (oid, name, permissive, cmd, roles, using, with_check) in policies {
        let command = match cmd.as_str() {
            "r" => Command::Select,
            "a" => Command::Insert,
            "w" => Command::Update,
            "d" => Command::Delete,
            _ => Command::All,
        };
        if let Some(t) = tables.get_mut(&oid) {
            t.policies.push(PolicyFacts {
                name,
                permissive,
                command,
                roles,
                using,
                with_check,
            });
        }
    }
    let grants: Vec<(i64, String, String)> = sqlx::query_as(GRANTS).fetch_all(&mut *conn).await?;
    for (oid, role, privilege) in grants {
        let privilege = Privilege::ALL.iter().find(|p| p.keyword() == privilege);
        if let (Some(t), Some(p)) = (tables.get_mut(&oid), privilege) {
            t.grants.push((role, *p));
        }
    }
    let indexes: Vec<IndexRow> = sqlx::query_as(INDEXES).fetch_all(&mut *conn).await?;
    for (oid, name, columns, unique, predicate) in indexes {
        if let Some(indexes) = tables.get_mut(&oid).and_then(|t| t.indexes.as_mut()) {
            let columns = columns.iter().map(|c| unquote(c)).collect();
            indexes.push(IndexFacts {
                name,
                columns,
                unique,
                predicate,
            });
        }
    }
    let fks: Vec<(i64, String, Vec<String>)> =
        sqlx::query_as(FOREIGN_KEYS).fetch_all(&mut *conn).await?;
    for (oid, name, columns) in fks {
        if let Some(t) = tables.get_mut(&oid) {
            t.foreign_keys.push(ForeignKeyFacts { name, columns });
        }
    }
    let functions: Vec<FunctionRow> = sqlx::query_as(FUNCTIONS)
        .bind(&exposed_roles)
        .fetch_all(&mut *conn)
        .await?;
    let views: Vec<(String, String, bool, Vec<String>)> = sqlx::query_as(VIEWS)
        .bind(&exposed_roles)
        .fetch_all(&mut *conn)
        .await?;
    Ok(Facts {
        tables: order.iter().filter_map(|oid| tables.remove(oid)).collect(),
        functions: functions
            .into_iter()
            .map(
                |(
                    schema,
                    name,
                    args,
                    language,
                    security_definer,
                    search_path_set,
                    executable_by,
                )| FunctionFacts {
                    schema,
                    name,
                    args,
                    language,
                    security_definer,
                    search_path_set,
                    executable_by,
                    lookup: false,
                },
            )
            .collect(),
        views: views
            .into_iter()
            .map(|(schema, name, security_invoker, readable_by)| ViewFacts {
                schema,
                name,
                security_invoker,
                readable_by,
            })
            .collect(),
        exposed_roles,
    })
}

/// `pg_get_indexdef` quotes a column name that needs it; the facts hold names as stored.
fn unquote(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => name.to_string(),
    }
}
