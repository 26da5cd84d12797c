//! What a database actually holds: tables, columns, constraints, indexes, policies, RLS
//! switches, grants and enum types, read from the catalog in a form that two databases (or a
//! database and the migration a model renders) can be compared by.
//!
//! Everything is spelled the way PostgreSQL prints it (`format_type`, `pg_get_expr`,
//! `pg_get_constraintdef`, `pg_get_indexdef`), so two databases built by different
//! statements compare equal exactly when the catalog holds the same thing. [`differences`]
//! turns a comparison into sentences (it powers `gen-migrations verify`).
//!
//! Only bound parameters reach the queries: schema names are never formatted into SQL.

use sqlx::PgConnection;
use std::collections::BTreeMap;

/// An ordinary or partitioned table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTable {
    /// The table's schema.
    pub schema: String,
    /// The table's name.
    pub name: String,
    /// In `attnum` order, without dropped columns.
    pub columns: Vec<DbColumn>,
    /// Sorted by name. NOT NULL constraints (PostgreSQL 18 lists them) are left out: they
    /// are [`DbColumn::not_null`].
    pub constraints: Vec<DbConstraint>,
    /// Indexes that do not back a constraint (primary key, unique, exclusion), by name.
    pub indexes: Vec<DbIndex>,
    /// Sorted by name.
    pub policies: Vec<DbPolicy>,
    /// `relrowsecurity`: ENABLE ROW LEVEL SECURITY.
    pub rls: bool,
    /// `relforcerowsecurity`: FORCE ROW LEVEL SECURITY.
    pub force_rls: bool,
    /// `(grantee, privilege)` from the table's ACL, sorted, without the owner's own
    /// entries; the grantee is `PUBLIC` for grants to everyone.
    pub grants: Vec<(String, String)>,
    /// The model's table is `existing` (set by the caller on the expected side): only its
    /// policies, row-level security and the privileges the model grants are compared.
    pub existing: bool,
}

/// A column of a [`DbTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbColumn {
    /// The column's name.
    pub name: String,
    /// `format_type(atttypid, atttypmod)`: `bigint`, `character varying(80)`, `text[]`,
    /// `status` (enums outside the search path come schema-qualified).
    pub ty: String,
    /// `attnotnull`: NOT NULL.
    pub not_null: bool,
    /// `pg_get_expr(adbin, adrelid)`.
    pub default: Option<String>,
    /// `attidentity`: `""` (not an identity column), `"a"` (ALWAYS), `"d"` (BY DEFAULT).
    pub identity: String,
}

/// A constraint of a [`DbTable`], other than NOT NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbConstraint {
    /// The constraint's name.
    pub name: String,
    /// `contype`: `p` primary key, `u` unique, `f` foreign key, `c` check, `x` exclusion,
    /// `t` constraint trigger.
    pub kind: String,
    /// `pg_get_constraintdef(oid)`: `PRIMARY KEY (id)`, `FOREIGN KEY (a) REFERENCES t(id)`.
    pub definition: String,
}

/// An index of a [`DbTable`] that backs no constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbIndex {
    /// The index's name.
    pub name: String,
    /// `pg_get_indexdef`: `CREATE INDEX t_a_idx ON public.t USING btree (a)`.
    pub definition: String,
}

/// A policy of a [`DbTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbPolicy {
    /// The policy's name.
    pub name: String,
    /// `polpermissive`: `AS PERMISSIVE`; `false` for a restrictive policy.
    pub permissive: bool,
    /// As `pg_policies.cmd`: `ALL`, `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub command: String,
    /// Role names, sorted; `public` for PUBLIC.
    pub roles: Vec<String>,
    /// `pg_get_expr` of USING.
    pub using: Option<String>,
    /// `pg_get_expr` of WITH CHECK.
    pub with_check: Option<String>,
}

/// An enum type and its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbEnum {
    /// The type's schema.
    pub schema: String,
    /// The type's name.
    pub name: String,
    /// Labels in `enumsortorder`.
    pub values: Vec<String>,
}

const TABLES: &str = "\
select c.oid::int8, n.nspname::text, c.relname::text, c.relrowsecurity, c.relforcerowsecurity
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[])
order by n.nspname::text collate \"C\", c.relname::text collate \"C\"";

const COLUMNS: &str = "\
select a.attrelid::int8, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
    a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity::text
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[])
    and a.attnum > 0 and not a.attisdropped
order by a.attrelid, a.attnum";

const CONSTRAINTS: &str = "\
select con.conrelid::int8, con.conname::text, con.contype::text,
    pg_catalog.pg_get_constraintdef(con.oid)
from pg_catalog.pg_constraint con
join pg_catalog.pg_class c on c.oid = con.conrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[]) and con.contype <> 'n'";

const INDEXES: &str = "\
select i.indrelid::int8, ic.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid)
from pg_catalog.pg_index i
join pg_catalog.pg_class ic on ic.oid = i.indexrelid
join pg_catalog.pg_class c on c.oid = i.indrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[])
    and not exists (
        select from pg_catalog.pg_constraint con
        where con.conrelid = i.indrelid and con.conindid = i.indexrelid
            and con.contype in ('p', 'u', 'x'))";

const POLICIES: &str = "\
select p.polrelid::int8, p.polname::text, p.polpermissive,
    case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
        when 'd' then 'DELETE' when '*' then 'ALL' else p.polcmd::text end,
    array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end
        from unnest(p.polroles) r),
    pg_catalog.pg_get_expr(p.polqual, p.polrelid),
    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on c.oid = p.polrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[])";

const GRANTS: &str = "\
select c.oid::int8,
    case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee)::text end,
    a.privilege_type
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
cross join lateral pg_catalog.aclexplode(c.relacl) a
where c.relkind in ('r', 'p') and n.nspname::text = any($1::text[])
    and a.grantee <> c.relowner";

const ENUMS: &str = "\
select n.nspname::text, t.typname::text,
    array(select e.enumlabel::text from pg_catalog.pg_enum e
        where e.enumtypid = t.oid order by e.enumsortorder)
from pg_catalog.pg_type t
join pg_catalog.pg_namespace n on n.oid = t.typnamespace
where t.typtype = 'e' and n.nspname::text = any($1::text[])
order by n.nspname::text collate \"C\", t.typname::text collate \"C\"";

const SCHEMA_PRIVILEGES: &str = "\
select n.nspname::text,
    case when a.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(a.grantee)::text end,
    a.privilege_type
from pg_catalog.pg_namespace n
cross join lateral pg_catalog.aclexplode(n.nspacl) a
where n.nspname::text = any($1::text[]) and a.grantee <> n.nspowner";

type ColumnRow = (i64, String, String, bool, Option<String>, String);
type PolicyRow = (
    i64,
    String,
    bool,
    String,
    Vec<String>,
    Option<String>,
    Option<String>,
);

/// Every ordinary and partitioned table in `schemas`, sorted by (schema, name).
pub async fn tables(
    conn: &mut PgConnection,
    schemas: &[String],
) -> Result<Vec<DbTable>, sqlx::Error> {
    let rows: Vec<(i64, String, String, bool, bool)> = sqlx::query_as(TABLES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    let mut by_oid: BTreeMap<i64, DbTable> = rows
        .into_iter()
        .map(|(oid, schema, name, rls, force_rls)| {
            let table = DbTable {
                schema,
                name,
                columns: Vec::new(),
                constraints: Vec::new(),
                indexes: Vec::new(),
                policies: Vec::new(),
                rls,
                force_rls,
                grants: Vec::new(),
                existing: false,
            };
            (oid, table)
        })
        .collect();

    let columns: Vec<ColumnRow> = sqlx::query_as(COLUMNS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    for (oid, name, ty, not_null, default, identity) in columns {
        if let Some(t) = by_oid.get_mut(&oid) {
            t.columns.push(DbColumn {
                name,
                ty,
                not_null,
                default,
                identity,
            });
        }
    }

    let constraints: Vec<(i64, String, String, String)> = sqlx::query_as(CONSTRAINTS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    for (oid, name, kind, definition) in constraints {
        if let Some(t) = by_oid.get_mut(&oid) {
            t.constraints.push(DbConstraint {
                name,
                kind,
                definition,
            });
        }
    }

    let indexes: Vec<(i64, String, String)> = sqlx::query_as(INDEXES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    for (oid, name, definition) in indexes {
        if let Some(t) = by_oid.get_mut(&oid) {
            t.indexes.push(DbIndex { name, definition });
        }
    }

    let policies: Vec<PolicyRow> = sqlx::query_as(POLICIES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    for (oid, name, permissive, command, mut roles, using, with_check) in policies {
        if let Some(t) = by_oid.get_mut(&oid) {
            roles.sort();
            t.policies.push(DbPolicy {
                name,
                permissive,
                command,
                roles,
                using,
                with_check,
            });
        }
    }

    let grants: Vec<(i64, String, String)> = sqlx::query_as(GRANTS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    for (oid, grantee, privilege) in grants {
        if let Some(t) = by_oid.get_mut(&oid) {
            t.grants.push((grantee, privilege));
        }
    }

    let mut out: Vec<DbTable> = by_oid.into_values().collect();
    for t in &mut out {
        t.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.policies.sort_by(|a, b| a.name.cmp(&b.name));
        t.grants.sort();
        t.grants.dedup();
    }
    out.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Ok(out)
}

/// Every enum type in `schemas`, sorted by (schema, name).
pub async fn enums(
    conn: &mut PgConnection,
    schemas: &[String],
) -> Result<Vec<DbEnum>, sqlx::Error> {
    let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(ENUMS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<DbEnum> = rows
        .into_iter()
        .map(|(schema, name, values)| DbEnum {
            schema,
            name,
            values,
        })
        .collect();
    out.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Ok(out)
}

/// `(schema, grantee, privilege)` for the schemas in `schemas` that exist, from their ACL,
/// sorted, without the owner's own entries; the grantee is `PUBLIC` for grants to
/// everyone. Roles need `USAGE` on a table's schema (and on `auth`, for `auth.user_id()`)
/// before any grant on the table is of use.
pub async fn schema_privileges(
    conn: &mut PgConnection,
    schemas: &[String],
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let mut rows: Vec<(String, String, String)> = sqlx::query_as(SCHEMA_PRIVILEGES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?;
    rows.sort();
    rows.dedup();
    Ok(rows)
}

/// What differs between the tables the model describes (`expected`) and the tables the
/// database holds (`actual`), one sentence each, table by table. Empty when they are the
/// same.
///
/// Columns are matched by name; their order is not compared (ALTER TABLE can only append a
/// column, so a migrated table may list its columns in another order than a created one).
/// A constraint or index found under another name with the same definition is reported as
/// a name difference.
pub fn differences(expected: &[DbTable], actual: &[DbTable]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        let label = format!("table {}.{}", e.schema, e.name);
        match actual
            .iter()
            .find(|a| a.schema == e.schema && a.name == e.name)
        {
            Some(a) => table_differences(&label, e, a, &mut out),
            None => out.push(format!("{label}: missing from the database")),
        }
    }
    for a in actual {
        if !expected
            .iter()
            .any(|e| e.schema == a.schema && e.name == a.name)
        {
            out.push(format!(
                "table {}.{}: in the database but not in the model",
                a.schema, a.name
            ));
        }
    }
    out
}

/// [`differences`] for enum types.
pub fn enum_differences(expected: &[DbEnum], actual: &[DbEnum]) -> Vec<String> {
    let mut out = Vec::new();
    let list = |values: &[String]| {
        values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for e in expected {
        match actual
            .iter()
            .find(|a| a.schema == e.schema && a.name == e.name)
        {
            Some(a) if a.values != e.values => out.push(format!(
                "enum {}.{}: values ({}) in the model, ({}) in the database",
                e.schema,
                e.name,
                list(&e.values),
                list(&a.values)
            )),
            Some(_) => {}
            None => out.push(format!(
                "enum {}.{}: missing from the database",
                e.schema, e.name
            )),
        }
    }
    for a in actual {
        if !expected
            .iter()
            .any(|e| e.schema == a.schema && e.name == a.name)
        {
            out.push(format!(
                "enum {}.{}: in the database but not in the model",
                a.schema, a.name
            ));
        }
    }
    out
}

fn table_differences(label: &str, e: &DbTable, a: &DbTable, out: &mut Vec<String>) {
    if !e.existing {
        structure_differences(label, e, a, out);
    }
    security_differences(label, e, a, out);
}

/// Columns, constraints and indexes: what the migrations make of a table they create.
fn structure_differences(label: &str, e: &DbTable, a: &DbTable, out: &mut Vec<String>) {
    // Columns, by name.
    for ec in &e.columns {
        let Some(ac) = a.columns.iter().find(|c| c.name == ec.name) else {
            out.push(format!(
                "{label}: column {} ({}) is missing from the database",
                ec.name, ec.ty
            ));
            continue;
        };
        let col = format!("{label}: column {}", ec.name);
        if ec.ty != ac.ty {
            out.push(format!(
                "{col}: type {} in the model, {} in the database",
                ec.ty, ac.ty
            ));
        }
        if ec.not_null != ac.not_null {
            let says = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
            out.push(format!(
                "{col}: {} in the model, {} in the database",
                says(ec.not_null),
                says(ac.not_null)
            ));
        }
        if ec.default != ac.default {
            let says = |d: &Option<String>| match d {
                Some(d) => format!("default {d}"),
                None => "no default".to_string(),
            };
            out.push(format!(
                "{col}: {} in the model, {} in the database",
                says(&ec.default),
                says(&ac.default)
            ));
        }
        if ec.identity != ac.identity {
            out.push(format!(
                "{col}: {} in the model, {} in the database",
                identity(&ec.identity),
                identity(&ac.identity)
            ));
        }
    }
    for ac in &a.columns {
        if !e.columns.iter().any(|c| c.name == ac.name) {
            out.push(format!(
                "{label}: column {} ({}) is in the database but not in the model",
                ac.name, ac.ty
            ));
        }
    }

    // Constraints, by name; then by definition for a name difference.
    named_differences(
        label,
        &e.constraints,
        &a.constraints,
        |c| &c.name,
        |c| (constraint_kind(&c.kind), c.definition.clone()),
        out,
    );
    // Indexes: the definition names the index and the table, so compare it with the
    // name taken out.
    named_differences(
        label,
        &e.indexes,
        &a.indexes,
        |i| &i.name,
        |i| ("index", index_body(i)),
        out,
    );
}

/// Policies, row-level security switches and grants. On an existing table, privileges the
/// model does not grant are not drift: the table's owner (another tool) may grant them, and
/// row-level security still decides which rows they reach.
fn security_differences(label: &str, e: &DbTable, a: &DbTable, out: &mut Vec<String>) {
    // Policies, by name.
    for ep in &e.policies {
        let Some(ap) = a.policies.iter().find(|p| p.name == ep.name) else {
            out.push(format!(
                "{label}: policy \"{}\" ({}) is missing from the database",
                ep.name,
                policy_summary(ep)
            ));
            continue;
        };
        let pol = format!("{label}: policy \"{}\"", ep.name);
        if ep.permissive != ap.permissive {
            let says = |p: bool| if p { "PERMISSIVE" } else { "RESTRICTIVE" };
            out.push(format!(
                "{pol}: {} in the model, {} in the database",
                says(ep.permissive),
                says(ap.permissive)
            ));
        }
        if ep.command != ap.command {
            out.push(format!(
                "{pol}: FOR {} in the model, FOR {} in the database",
                ep.command, ap.command
            ));
        }
        if ep.roles != ap.roles {
            out.push(format!(
                "{pol}: TO {} in the model, TO {} in the database",
                ep.roles.join(", "),
                ap.roles.join(", ")
            ));
        }
        for (clause, m, d) in [
            ("USING", &ep.using, &ap.using),
            ("WITH CHECK", &ep.with_check, &ap.with_check),
        ] {
            if m != d {
                let says = |x: &Option<String>| match x {
                    Some(x) => format!("{clause} ({x})"),
                    None => format!("no {clause}"),
                };
                out.push(format!(
                    "{pol}: {} in the model, {} in the database",
                    says(m),
                    says(d)
                ));
            }
        }
    }
    for ap in &a.policies {
        if !e.policies.iter().any(|p| p.name == ap.name) {
            out.push(format!(
                "{label}: policy \"{}\" ({}) is in the database but not in the model",
                ap.name,
                policy_summary(ap)
            ));
        }
    }

    // Row-level security switches.
    let on_off = |b: bool| if b { "on" } else { "off" };
    if e.rls != a.rls {
        out.push(format!(
            "{label}: row-level security is {} in the model, {} in the database",
            on_off(e.rls),
            on_off(a.rls)
        ));
    }
    if e.force_rls != a.force_rls {
        out.push(format!(
            "{label}: FORCE ROW LEVEL SECURITY is {} in the model, {} in the database",
            on_off(e.force_rls),
            on_off(a.force_rls)
        ));
    }

    // Grants, by grantee.
    let mut grantees: Vec<&str> = e
        .grants
        .iter()
        .chain(a.grants.iter())
        .map(|(g, _)| g.as_str())
        .collect();
    grantees.sort();
    grantees.dedup();
    for g in grantees {
        let of = |t: &DbTable| -> Vec<String> {
            t.grants
                .iter()
                .filter(|(r, _)| r == g)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let (want, have) = (of(e), of(a));
        let missing: Vec<&str> = want
            .iter()
            .filter(|p| !have.contains(p))
            .map(String::as_str)
            .collect();
        let extra: Vec<&str> = have
            .iter()
            .filter(|p| !want.contains(p))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "{label}: {g} lacks {} in the database (granted in the model)",
                missing.join(", ")
            ));
        }
        if !extra.is_empty() && !e.existing {
            out.push(format!(
                "{label}: {g} holds {} in the database (not granted in the model)",
                extra.join(", ")
            ));
        }
    }
}

/// Objects matched by name; those left over are paired by kind and definition to report
/// renames. `describe` gives an object's kind and definition.
fn named_differences<T>(
    label: &str,
    expected: &[T],
    actual: &[T],
    name: impl Fn(&T) -> &String,
    describe: impl Fn(&T) -> (&'static str, String),
    out: &mut Vec<String>,
) {
    let mut missing: Vec<&T> = Vec::new();
    for e in expected {
        match actual.iter().find(|a| name(a) == name(e)) {
            Some(a) => {
                let ((ke, de), (ka, da)) = (describe(e), describe(a));
                if (ke, &de) != (ka, &da) {
                    out.push(format!(
                        "{label}: {ke} \"{}\" is {de} in the model, {} in the database",
                        name(e),
                        if ke == ka { da } else { format!("{ka} {da}") }
                    ));
                }
            }
            None => missing.push(e),
        }
    }
    let mut extra: Vec<&T> = actual
        .iter()
        .filter(|a| !expected.iter().any(|e| name(e) == name(a)))
        .collect();
    for e in missing {
        let (kind, def) = describe(e);
        match extra
            .iter()
            .position(|a| describe(a) == (kind, def.clone()))
        {
            Some(i) => {
                let a = extra.remove(i);
                out.push(format!(
                    "{label}: {kind} {def} is named \"{}\" in the model, \"{}\" in the database",
                    name(e),
                    name(a)
                ));
            }
            None => out.push(format!(
                "{label}: {kind} \"{}\" ({def}) is missing from the database",
                name(e)
            )),
        }
    }
    for a in extra {
        let (kind, def) = describe(a);
        out.push(format!(
            "{label}: {kind} \"{}\" ({def}) is in the database but not in the model",
            name(a)
        ));
    }
}

fn identity(code: &str) -> &'static str {
    match code {
        "a" => "GENERATED ALWAYS AS IDENTITY",
        "d" => "GENERATED BY DEFAULT AS IDENTITY",
        "" => "not an identity column",
        _ => "an identity column of an unknown kind",
    }
}

fn constraint_kind(code: &str) -> &'static str {
    match code {
        "p" => "primary key",
        "u" => "unique constraint",
        "f" => "foreign key",
        "c" => "check constraint",
        "x" => "exclusion constraint",
        "t" => "constraint trigger",
        _ => "constraint",
    }
}

/// `pg_get_indexdef` without the index's own name: `CREATE UNIQUE INDEX ON public.t USING
/// btree (a)`.
fn index_body(index: &DbIndex) -> String {
    let def = &index.definition;
    for quoted in [
        format!("\"{}\"", index.name.replace('"', "\"\"")),
        index.name.clone(),
    ] {
        let pattern = format!("INDEX {quoted} ON ");
        if let Some(at) = def.find(&pattern) {
            return format!("{}INDEX ON {}", &def[..at], &def[at + pattern.len()..]);
        }
    }
    def.clone()
}

fn policy_summary(p: &DbPolicy) -> String {
    let mut s = format!(
        "{} FOR {} TO {}",
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command,
        p.roles.join(", ")
    );
    if let Some(u) = &p.using {
        s.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.with_check {
        s.push_str(&format!(" WITH CHECK ({c})"));
    }
    s
}
