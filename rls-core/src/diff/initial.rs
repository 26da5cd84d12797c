//! The first migration: everything from an empty database, in dependency order, as changes.
//! Unlike an incremental plan it is not sorted by phase: each table's policies, switches and
//! grants stay together, as the first migration lays them out (`sql::first_migration`).

use super::{Change, Phase, Plan, QualifiedName};
use crate::check::{SchemaError, check_tables};
use crate::model::{ForeignKey, Role, SchemaDef, TableDef, distinct, names, order, table_grants};

/// The changes that build `schema` in an empty database. Refuses a schema that `check`
/// finds fault with.
pub fn initial(schema: &SchemaDef) -> Result<Plan, Vec<SchemaError>> {
    let mut schema = schema.clone();
    crate::model::provider::lower(&mut schema);
    crate::model::lower_for_target(&mut schema);
    let schema = &schema;
    let tables = schema.table_refs();
    check_tables(&tables)?;
    let provider_errors = crate::check::check_provider(schema);
    if !provider_errors.is_empty() {
        return Err(provider_errors);
    }
    let mut plan = Plan::new(schema.clone());

    plan.push(Phase::Auth, Change::SetUpAuth { auth: schema.auth });
    let roles = schema.roles();
    for r in super::sorted_roles(&roles) {
        plan.push(Phase::Roles, Change::CreateRole { role: r });
    }
    super::citus::allow_login(&mut plan, None, schema);
    let auth_usage = std::iter::once(&Role::CURRENT_USER)
        .chain(roles.iter().filter(|r| !r.is_current_user()))
        .filter(|_| schema.auth.grants_auth_usage());
    for r in auth_usage {
        plan.push(Phase::Roles, Change::GrantAuthUsage { role: r.clone() });
    }
    for s in schema.schemas().into_iter().filter(|s| s != "public") {
        plan.push(Phase::Schemas, Change::CreateSchema { schema: s });
    }
    for e in schema.enums() {
        plan.push(Phase::Types, Change::CreateEnum { enum_type: e });
    }

    let order = order::order(&tables);
    // Keys whose target is unique only through an index wait until every index exists.
    let mut late_keys = Vec::new();
    for &i in order.tables.iter().filter(|&&i| !tables[i].existing) {
        let t = tables[i];
        // On Citus a placed table gets its keys once every table is placed: Citus turns a
        // table created with a key to a reference table into a table of its own kind, which
        // cannot then be distributed if it has an identity column.
        let later: Vec<usize> = (0..t.foreign_keys.len())
            .filter(|&k| {
                order.deferred.contains(&(i, k))
                    || !keyed_by_constraint(&tables, &t.foreign_keys[k])
                    || t.on_workers()
            })
            .collect();
        for &k in &later {
            if !order.deferred.contains(&(i, k)) {
                late_keys.push((i, k));
            }
        }
        plan.push(
            Phase::CreateTables,
            Change::CreateTable {
                table: t.clone(),
                later_foreign_keys: later,
            },
        );
        for index in crate::model::indexes(t) {
            plan.push(
                Phase::CreateTables,
                Change::CreateIndex {
                    table: QualifiedName::of(t),
                    name: names::index(t, &index),
                    index,
                },
            );
        }
        // Before the tables that reference it are created: Citus keeps a foreign key only
        // to a table that is already distributed or a reference table.
        super::citus::distribute(&mut plan, t, &schema.tables);
    }
    for &(i, k) in order.deferred.iter().chain(&late_keys) {
        let (t, key) = (tables[i], &tables[i].foreign_keys[k]);
        plan.push(
            Phase::AddForeignKeys,
            Change::AddForeignKey {
                table: QualifiedName::of(t),
                name: names::foreign_key(t, &key.columns),
                key: key.clone(),
            },
        );
    }

    // Access to the tables' schemas, once per schema and grantee.
    let usage = distinct(order.tables.iter().flat_map(|&i| {
        let t = tables[i];
        table_grants(t)
            .into_iter()
            .map(move |(r, _)| (t.schema.to_string(), r))
    }));
    for (schema, role) in usage {
        plan.push(Phase::Grant, Change::GrantSchemaUsage { schema, role });
    }

    super::lookups::create_all(&mut plan, schema);

    // Policies before ENABLE ROW LEVEL SECURITY, grants last: no moment in which a table is
    // open with fewer rules than intended.
    for &i in &order.tables {
        let t = tables[i];
        if !t.rls_enabled() && t.grants.is_empty() {
            continue;
        }
        secure(&mut plan, t);
    }
    Ok(plan)
}

/// A new table's policies, row-level security switches and grants, in that order.
pub(super) fn secure(plan: &mut Plan, t: &TableDef) {
    let table = QualifiedName::of(t);
    for p in t.policies.iter() {
        plan.push(
            Phase::Policies,
            Change::CreatePolicy {
                table: table.clone(),
                policy: p.clone(),
            },
        );
    }
    if t.rls_enabled() {
        plan.push(
            Phase::EnableRls,
            Change::EnableRls {
                table: table.clone(),
            },
        );
    }
    if t.force_rls {
        plan.push(
            Phase::EnableRls,
            Change::ForceRls {
                table: table.clone(),
            },
        );
    }
    for (role, privileges) in table_grants(t) {
        plan.push(
            Phase::Grant,
            Change::Grant {
                table: table.clone(),
                role,
                privileges,
            },
        );
    }
}

/// Whether a foreign key's target columns are the primary key or a unique constraint of
/// their table (so the key can be declared with the referencing table).
fn keyed_by_constraint(tables: &[&TableDef], fk: &ForeignKey) -> bool {
    tables
        .iter()
        .find(|t| t.schema == fk.target_schema && t.name == fk.target_table)
        .is_none_or(|t| {
            let uniques = t.uniques.iter().map(|u| &*u.columns);
            rls_rules::is_key(&fk.target_columns, &t.primary_key, uniques)
        })
}
