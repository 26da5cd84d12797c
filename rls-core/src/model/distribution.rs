//! Where a schema runs ([`Target`]) and, on Citus, where each table's rows live
//! ([`Distribution`]); and what the model becomes there ([`lower`]).
//!
//! Citus shards a distributed table by one column across its workers and copies a reference
//! table whole to every node; a table with neither stays on the coordinator (a local table).
//! A query on a distributed or reference table runs on the workers' shards as the session's
//! role, so the policies apply there, but Citus refuses any sub-select in those policies
//! ("Subqueries are not supported in policies on distributed tables"), and a function that
//! reads another distributed or reference table cannot run inside a shard query. So, on
//! Citus:
//! - the user id and the claims in those tables' policies are called where they stand
//!   ([`ExprOp::AuthUserIdCall`], [`ExprOp::ClaimCall`]) instead of in a sub-select;
//! - a distributed table without a stated co-location is co-located with the distributed
//!   table its foreign key on the distribution column references, so that joins along that
//!   key stay on one shard;
//! - `check::check_citus` refuses what Citus cannot run.
//!
//! On any other target the distributions are dropped: the same structs serve a single
//! server, with the sub-select forms that are faster there. Lowering is idempotent.

use super::{Expr, ExprOp, List, Policy, SchemaDef, Str, TableDef};
use serde::{Deserialize, Serialize};

/// Where the schema runs: one PostgreSQL server (with replicas and a pooler, if any), or a
/// Citus cluster. Chosen with [`crate::Schema::target`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One PostgreSQL server: every table local, policies in their fastest single-server
    /// forms (`(select auth.user_id())`, `= ANY (ARRAY(SELECT ...))`).
    #[default]
    Postgres,
    /// A Citus 13 cluster: the migrations distribute the tables that say
    /// `#[table(distribute_by = ...)]` and replicate those that say `#[table(reference)]`,
    /// and write those tables' policies in the forms Citus accepts.
    Citus,
}

impl Target {
    /// Whether this is the default, [`Target::Postgres`] (left out of snapshots).
    pub fn is_postgres(&self) -> bool {
        *self == Target::Postgres
    }
}

/// Where Citus keeps a table's rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Sharded by a column (`#[table(distribute_by = org_id)]`): `create_distributed_table`.
    Distributed {
        /// The distribution column's SQL name.
        column: Str,
        /// The table whose shards this one's share (`colocate_with = "projects"`, or the
        /// distributed table that a foreign key on the distribution column references).
        /// `None`: Citus's default group for the column's type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        colocate_with: Option<Str>,
    },
    /// Copied whole to every node (`#[table(reference)]`): `create_reference_table`. For
    /// small tables that distributed ones reference or join.
    Reference,
}

impl Distribution {
    /// The distribution column, for a distributed table.
    pub fn column(&self) -> Option<&str> {
        match self {
            Distribution::Distributed { column, .. } => Some(column),
            Distribution::Reference => None,
        }
    }
}

impl TableDef {
    /// The distribution column, when Citus shards the table.
    pub fn distribution_column(&self) -> Option<&str> {
        self.distribution.as_ref().and_then(Distribution::column)
    }

    /// Whether Citus distributes or replicates the table: its policies run in shard
    /// queries.
    pub fn on_workers(&self) -> bool {
        self.distribution.is_some()
    }
}

/// Rewrites `schema` for its target (see the module's documentation).
pub fn lower(schema: &mut SchemaDef) {
    if schema.target != Target::Citus {
        for t in schema.tables.iter_mut() {
            t.distribution = None;
        }
        return;
    }
    let inferred: Vec<Option<Str>> = schema
        .tables
        .iter()
        .map(|t| colocation(t, &schema.tables))
        .collect();
    for (t, colocate) in schema.tables.iter_mut().zip(inferred) {
        if let (Some(Distribution::Distributed { colocate_with, .. }), Some(c)) =
            (&mut t.distribution, colocate)
        {
            *colocate_with = Some(c);
        }
        if t.on_workers() {
            let policies: Vec<Policy> = t
                .policies
                .iter()
                .map(|p| Policy {
                    using: p.using.as_ref().map(direct_calls),
                    with_check: p.with_check.as_ref().map(direct_calls),
                    ..p.clone()
                })
                .collect();
            if *policies != *t.policies {
                t.policies = List::Owned(policies);
            }
        }
    }
}

/// The table a distributed table without a stated co-location is co-located with: the
/// first distributed table that one of its foreign keys references on the distribution
/// columns of both.
fn colocation(t: &TableDef, tables: &[TableDef]) -> Option<Str> {
    let Some(Distribution::Distributed {
        column,
        colocate_with: None,
    }) = &t.distribution
    else {
        return None;
    };
    t.foreign_keys.iter().find_map(|fk| {
        let target = tables
            .iter()
            .find(|o| o.schema == fk.target_schema && o.name == fk.target_table)?;
        let theirs = target.distribution_column()?;
        let at = fk.columns.iter().position(|c| c == column)?;
        (fk.target_columns.get(at).map(|c| &**c) == Some(theirs)).then(|| target.name.clone())
    })
}

/// `e` with the user id and the claims called where they stand.
fn direct_calls(e: &Expr) -> Expr {
    let ops: Vec<ExprOp> = e
        .ops
        .iter()
        .map(|op| match op {
            ExprOp::AuthUserId => ExprOp::AuthUserIdCall,
            ExprOp::Claim(c) => ExprOp::ClaimCall(c.clone()),
            other => other.clone(),
        })
        .collect();
    Expr {
        ops: List::Owned(ops),
    }
}
