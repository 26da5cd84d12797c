//! `gen-migrations lint`: the policies that are slow or open, found before production does.
//! Splinter's lints (Supabase's, for SQL) and this project's own, judged over [`facts`] that
//! come either from the model ([`model`], no database) or from a database's catalogs
//! ([`live`]), so that both are checked by the same code and agree.

#[cfg(feature = "runtime-tokio")]
mod catalog;
pub mod facts;
mod finding;
mod from_model;
#[cfg(feature = "runtime-tokio")]
mod live;
mod objects;
mod policy_text;
mod report;
mod tables;

pub use crate::model::Lint;
pub use finding::Finding;
#[cfg(feature = "runtime-tokio")]
pub use live::live;
pub use report::Report;
pub use rls_rules::lint::Level;

use crate::change::plural;
use crate::model::SchemaDef;
use facts::Facts;

/// The static lints: what the model's migrations would create, judged without a database.
pub fn model(schema: &SchemaDef) -> Report {
    run(&from_model::facts(schema))
}

/// Every lint over `facts`, less what the tables' `#[allow_lint]`s silence.
pub fn run(facts: &Facts) -> Report {
    judge(facts, Vec::new())
}

/// [`run`], with findings of other checks (the login role's) added.
fn judge(facts: &Facts, mut all: Vec<Finding>) -> Report {
    for t in &facts.tables {
        tables::check(facts, t, &mut all);
    }
    objects::check(facts, &mut all);
    let allowed = |f: &Finding| {
        facts
            .tables
            .iter()
            .filter(|t| f.object == t.object() || f.object.starts_with(&format!("{} ", t.object())))
            .find_map(|t| t.allowed.iter().find(|a| a.lint == f.lint).cloned())
    };
    let scope = format!(
        "{}, {}",
        plural(facts.tables.len(), "table"),
        plural(
            facts.tables.iter().map(|t| t.policies.len()).sum(),
            "policy"
        )
    );
    Report::new(all, allowed, scope)
}
