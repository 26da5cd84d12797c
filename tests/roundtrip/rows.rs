//! Random rows for schema A, and what must be left of them after the migration A -> B.
//!
//! Rows are drawn per column type and inserted one at a time (parents before children, a
//! foreign key's columns copied from a row of its target most of the time); PostgreSQL is
//! the judge of validity under A: a row it refuses (a unique, a check, a foreign key) is
//! simply not there. Every column kind the generator draws has values, so every table can
//! hold rows.

use crate::generate::{Kind, Rng, kind};
use rls_core::diff::{Change, Plan};
use rls_core::model::{SqlType, TableDef, TypeName};
use rls_core::sql::quote;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use std::collections::BTreeMap;

/// Rows tried per table (most are accepted).
const ROWS: usize = 6;

/// A table's rows, each value as PostgreSQL's text for it (`None`: NULL), in the order of
/// the table's columns.
pub type Rows = Vec<Vec<Option<String>>>;

fn table_name(t: &TableDef) -> String {
    quote::qualified(&t.schema, &t.name)
}

fn column_list(t: &TableDef) -> String {
    t.columns
        .iter()
        .map(|c| format!("{}::text", quote::ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parents before children (a cycle is broken anywhere).
fn fk_order(tables: &[TableDef]) -> Vec<usize> {
    let mut done: Vec<usize> = Vec::new();
    while done.len() < tables.len() {
        let ready = (0..tables.len()).find(|&i| {
            !done.contains(&i)
                && tables[i].foreign_keys.iter().all(|f| {
                    tables.iter().enumerate().all(|(j, o)| {
                        j == i
                            || done.contains(&j)
                            || !(o.schema == f.target_schema && o.name == f.target_table)
                    })
                })
        });
        let next = ready.unwrap_or_else(|| (0..tables.len()).find(|i| !done.contains(i)).unwrap());
        done.push(next);
    }
    done
}

/// A random value of type `ty` as an SQL literal (`None` when the kind has no values here).
fn value(rng: &mut Rng, ty: &SqlType) -> Option<String> {
    let text = |rng: &mut Rng, max: usize| -> String {
        const ALPHABET: &[char] = &['a', 'b', 'c', 'x', 'y', 'z', ' ', '\'', '"', 'é', '1'];
        let n = rng.range(0, max.min(8));
        (0..n).map(|_| *rng.pick(ALPHABET)).collect()
    };
    let array = |items: Vec<String>| -> String {
        let quoted: Vec<String> = items
            .iter()
            .map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        format!("{{{}}}", quoted.join(","))
    };
    let literal = match kind(ty) {
        Kind::Int(1) => (rng.below(2000) as i64 - 1000).to_string(),
        Kind::Int(_) => (rng.below(100_000) as i64 - 50_000).to_string(),
        Kind::Float => format!("{}.{}", rng.below(2000) as i64 - 1000, rng.below(100)),
        Kind::Numeric => format!(
            "{}.{:02}",
            rng.below(100_000) as i64 - 50_000,
            rng.below(100)
        ),
        Kind::Text => text(rng, 8),
        Kind::Varchar(n) => text(rng, n as usize),
        Kind::Bool => if rng.percent(50) { "true" } else { "false" }.to_string(),
        Kind::Jsonb => format!(
            "{{\"k\": {}, \"s\": \"{}\"}}",
            rng.below(100),
            rng.below(10)
        ),
        Kind::Uuid => format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.below(0x10000),
            rng.below(0x1000),
            rng.below(0x1000),
            rng.next_u64() & 0xffff_ffff_ffff
        ),
        Kind::Timestamptz => format!(
            "2024-{:02}-{:02} {:02}:{:02}:{:02}+00",
            rng.range(1, 12),
            rng.range(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        Kind::Date => format!(
            "20{:02}-{:02}-{:02}",
            rng.range(0, 40),
            rng.range(1, 12),
            rng.range(1, 28)
        ),
        Kind::TextArray => {
            let n = rng.range(0, 3);
            array((0..n).map(|_| text(rng, 5)).collect())
        }
        Kind::Enum | Kind::EnumArray => {
            let TypeName::Enum(e) = &ty.name else {
                return None;
            };
            if e.values.is_empty() {
                return None;
            }
            if ty.array {
                let n = rng.range(0, 3);
                array((0..n).map(|_| rng.pick(&e.values).to_string()).collect())
            } else {
                rng.pick(&e.values).to_string()
            }
        }
        Kind::Other => return None,
    };
    Some(quote::string(&literal))
}

/// Inserts random rows valid under A (those PostgreSQL accepts) into the tables of `a`,
/// already created on `conn`. Returns how many rows went in. No NULL goes in a column that
/// B makes NOT NULL, so that fewer tables must be emptied for B (see the test's header).
pub async fn fill(conn: &mut PgConnection, a: &[TableDef], b: &[TableDef], rng: &mut Rng) -> usize {
    // The rows of each table so far (all columns as text), for foreign keys to copy.
    let mut inserted: BTreeMap<(String, String), Rows> = BTreeMap::new();
    let mut total = 0;
    for i in fk_order(a) {
        let t = &a[i];
        let key = (t.schema.to_string(), t.name.to_string());
        let in_b = b.iter().find(|n| {
            n.schema == t.schema && n.renamed_from.as_deref().unwrap_or(&n.name) == &*t.name
        });
        let null_in_b = |c: &str| {
            in_b.and_then(|n| {
                n.columns
                    .iter()
                    .find(|x| x.renamed_from.as_deref().unwrap_or(&x.name) == c)
            })
            .is_none_or(|x| x.nullable)
        };
        for _ in 0..rng.range(0, ROWS) {
            let mut values: Vec<Option<Option<String>>> = Vec::new();
            let mut impossible = false;
            for c in t.columns.iter() {
                // Some(None): NULL; None: left to the default (or the identity).
                let v = if c.identity.is_some() || (c.default.is_some() && rng.percent(30)) {
                    None
                } else if c.nullable && null_in_b(&c.name) && rng.percent(20) {
                    Some(None)
                } else {
                    match value(rng, &c.ty) {
                        Some(v) => Some(Some(v)),
                        None if c.nullable => Some(None),
                        None if c.default.is_some() => None,
                        None => {
                            impossible = true;
                            None
                        }
                    }
                };
                values.push(v);
            }
            if impossible {
                break;
            }
            // Foreign keys: most of the time, the target columns of an existing row.
            for f in t.foreign_keys.iter() {
                let Some(target) = a
                    .iter()
                    .find(|o| o.schema == f.target_schema && o.name == f.target_table)
                else {
                    continue;
                };
                let rows = inserted
                    .get(&(target.schema.to_string(), target.name.to_string()))
                    .cloned()
                    .unwrap_or_default();
                if rows.is_empty() || rng.percent(10) {
                    continue;
                }
                let row = rng.pick(&rows).clone();
                for (c, tc) in f.columns.iter().zip(f.target_columns.iter()) {
                    let (Some(k), Some(tk)) = (
                        t.columns.iter().position(|x| x.name == *c),
                        target.columns.iter().position(|x| x.name == *tc),
                    ) else {
                        continue;
                    };
                    if t.columns[k].identity.is_some() {
                        continue;
                    }
                    values[k] = Some(row[tk].as_deref().map(quote::string));
                }
            }
            let (mut names, mut literals) = (Vec::new(), Vec::new());
            for (c, v) in t.columns.iter().zip(&values) {
                if let Some(v) = v {
                    names.push(quote::ident(&c.name));
                    literals.push(v.clone().unwrap_or_else(|| "NULL".into()));
                }
            }
            let sql = if names.is_empty() {
                format!(
                    "INSERT INTO {} DEFAULT VALUES RETURNING {}",
                    table_name(t),
                    column_list(t)
                )
            } else {
                format!(
                    "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
                    table_name(t),
                    names.join(", "),
                    literals.join(", "),
                    column_list(t)
                )
            };
            // Refused (a unique, a check, a foreign key): not a row of A.
            if let Ok(row) = sqlx::raw_sql(AssertSqlSafe(sql))
                .fetch_one(&mut *conn)
                .await
            {
                let row: Vec<Option<String>> = (0..t.columns.len())
                    .map(|k| row.try_get::<Option<String>, _>(k).expect("a text value"))
                    .collect();
                inserted.entry(key.clone()).or_default().push(row);
                total += 1;
            }
        }
    }
    total
}

/// Every table's rows, as text.
pub async fn read(
    conn: &mut PgConnection,
    tables: &[TableDef],
) -> BTreeMap<(String, String), Rows> {
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = format!("SELECT {} FROM {}", column_list(t), table_name(t));
        let rows = sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("read the rows of {}: {e}", table_name(t)));
        let rows: Rows = rows
            .iter()
            .map(|r| {
                (0..t.columns.len())
                    .map(|k| r.try_get::<Option<String>, _>(k).expect("a text value"))
                    .collect()
            })
            .collect();
        out.insert((t.schema.to_string(), t.name.to_string()), rows);
    }
    out
}

/// Whether the plan holds a change that may refuse rows valid under A (a constraint added
/// or a type changed): only then may the migration fail on the data.
pub fn may_refuse_rows(plan: &Plan, a: &[TableDef]) -> bool {
    plan.steps.iter().any(|s| match &s.change {
        Change::SetNotNull { .. }
        | Change::AddUnique { .. }
        | Change::AddPrimaryKey { .. }
        | Change::AddCheck { .. }
        | Change::SetType { .. }
        | Change::DropEnum { .. } => true,
        Change::CreateIndex { index, .. } => index.unique,
        // NOT NULL without a default, or with one that may be NULL (`DEFAULT NULL`,
        // `auth.user_id()` outside a session).
        Change::AddColumn { column, .. } => !column.nullable && column.identity.is_none(),
        // A foreign key A had (let go and added again) holds on A's rows.
        Change::AddForeignKey { table, key, .. } => !a.iter().any(|t| {
            t.schema == table.schema
                && t.name == table.name
                && t.foreign_keys.iter().any(|f| f == key)
        }),
        _ => false,
    })
}

/// What B must still hold of A's rows: for each table of A that B keeps, its rows over the
/// columns B keeps without a destructive change (renamed tables and columns followed).
/// Compares the rows as multisets, so the row counts too. Returns the differences.
pub async fn survived(
    conn: &mut PgConnection,
    a: &[TableDef],
    b: &[TableDef],
    plan: &Plan,
    before: &BTreeMap<(String, String), Rows>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for old in a {
        let Some(new) = b.iter().find(|t| {
            t.schema == old.schema && t.renamed_from.as_deref().unwrap_or(&t.name) == &*old.name
        }) else {
            continue;
        };
        // (index in A, name in B) of every column compared.
        let mut kept: Vec<(usize, String)> = Vec::new();
        for (k, c) in old.columns.iter().enumerate() {
            let Some(n) = new
                .columns
                .iter()
                .find(|n| n.renamed_from.as_deref().unwrap_or(&n.name) == &*c.name)
            else {
                continue;
            };
            let destroyed = plan.steps.iter().any(|s| {
                s.destructive.is_some()
                    && matches!(&s.change, Change::SetType { table, column, .. }
                        if table.schema == new.schema && table.name == new.name && *column == *n.name)
            });
            if !destroyed {
                kept.push((k, n.name.to_string()));
            }
        }
        let key = (old.schema.to_string(), old.name.to_string());
        let mut was: Rows = before
            .get(&key)
            .map(|rows| {
                rows.iter()
                    .map(|r| kept.iter().map(|(k, _)| r[*k].clone()).collect())
                    .collect()
            })
            .unwrap_or_default();
        let select = if kept.is_empty() {
            "1::text".to_string()
        } else {
            kept.iter()
                .map(|(_, n)| format!("{}::text", quote::ident(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!("SELECT {select} FROM {}", table_name(new));
        let rows = match sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                problems.push(format!("cannot read {}: {e}", table_name(new)));
                continue;
            }
        };
        let mut is: Rows = rows
            .iter()
            .map(|r| {
                (0..kept.len())
                    .map(|k| r.try_get::<Option<String>, _>(k).expect("a text value"))
                    .collect()
            })
            .collect();
        was.sort();
        is.sort();
        if was != is {
            let columns: Vec<&str> = kept.iter().map(|(_, n)| n.as_str()).collect();
            let lost: Vec<_> = was.iter().filter(|r| !is.contains(r)).take(3).collect();
            let new_rows: Vec<_> = is.iter().filter(|r| !was.contains(r)).take(3).collect();
            problems.push(format!(
                "rows of {} (was {}.{}) over ({}): {} before, {} after; lost {:?}; not there before {:?}",
                table_name(new),
                old.schema,
                old.name,
                columns.join(", "),
                was.len(),
                is.len(),
                lost,
                new_rows
            ));
        }
    }
    problems
}
