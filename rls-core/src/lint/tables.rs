//! The lints over tables: row-level security, policies, grants, indexes.

use super::facts::{Facts, TableFacts, sql_columns, sql_role};
use super::finding::Finding;
use super::policy_text;
use crate::model::{Command, Lint, Privilege};

pub fn check(facts: &Facts, t: &TableFacts, out: &mut Vec<Finding>) {
    rls_switch(facts, t, out);
    multiple_permissive(t, out);
    policy_texts(t, out);
    unused_grants(t, out);
    foreign_keys(t, out);
    duplicate_indexes(t, out);
}

fn rls_switch(facts: &Facts, t: &TableFacts, out: &mut Vec<Finding>) {
    let (table, sql_name) = (t.object(), t.sql_name());
    if !t.rls && !t.policies.is_empty() {
        let names: Vec<String> = t.policies.iter().map(|p| format!("{:?}", p.name)).collect();
        out.push(Finding::new(
            Lint::PolicyExistsRlsDisabled,
            &table,
            format!("row-level security is off, so its policies ({}) do nothing", names.join(", ")),
            format!("remove #[table(disable_rls)], or: ALTER TABLE {sql_name} ENABLE ROW LEVEL SECURITY;"),
        ));
    }
    if t.rls && t.policies.is_empty() {
        out.push(Finding::new(
            Lint::RlsEnabledNoPolicy,
            &table,
            "row-level security is on and no policy lets a row through: only the owner sees rows",
            "add a #[policy] or #[crud_policy] for the roles that need rows; for a private table on purpose, #[allow_lint(rls_enabled_no_policy, reason = \"...\")]",
        ));
    }
    if !t.rls {
        let mut exposed: Vec<&str> = Vec::new();
        for (role, _) in t.grants.iter().filter(|(r, _)| facts.exposed(r)) {
            if !exposed.contains(&role.as_str()) {
                exposed.push(role);
            }
        }
        if !exposed.is_empty() {
            out.push(Finding::new(
                Lint::RlsDisabledExposedTable,
                &table,
                format!("row-level security is off and {} may use the table: every row is theirs", exposed.join(", ")),
                format!("give it policies (#[crud_policy], #[policy]) or #[table(enable_rls)]; or: ALTER TABLE {sql_name} ENABLE ROW LEVEL SECURITY;"),
            ));
        }
    }
}

const COMMANDS: [Command; 4] = [
    Command::Select,
    Command::Insert,
    Command::Update,
    Command::Delete,
];

fn multiple_permissive(t: &TableFacts, out: &mut Vec<Finding>) {
    let mut roles: Vec<&str> = Vec::new();
    for p in &t.policies {
        for r in &p.roles {
            if !roles.contains(&r.as_str()) {
                roles.push(r);
            }
        }
    }
    roles.sort();
    for role in roles {
        for command in COMMANDS {
            let names: Vec<String> = t
                .policies
                .iter()
                .filter(|p| p.permissive && p.applies(role, command))
                .map(|p| format!("{:?}", p.name))
                .collect();
            if names.len() > 1 {
                out.push(Finding::new(
                    Lint::MultiplePermissivePolicies,
                    t.object(),
                    format!("{} permissive policies for {role} {}: {}", names.len(), command.keyword(), names.join(", ")),
                    "merge them into one policy whose condition ORs theirs; or make the narrowing ones `as = restrictive`",
                ));
            }
        }
    }
}

fn policy_texts(t: &TableFacts, out: &mut Vec<Finding>) {
    let mut compared: Vec<policy_text::UserIdComparison> = Vec::new();
    for p in &t.policies {
        let object = format!("{} policy {:?}", t.object(), p.name);
        let mut calls: Vec<String> = Vec::new();
        for clause in p.clauses() {
            for call in policy_text::per_row_calls(clause) {
                if !calls.contains(&call) {
                    calls.push(call);
                }
            }
            for c in policy_text::user_id_comparisons(clause, &t.name) {
                if !compared.iter().any(|have| have.column == c.column) {
                    compared.push(c);
                }
            }
        }
        // On a table Citus places the direct call is required (it refuses sub-selects there);
        // an index led by the compared column keeps it cheap (`user_id_comparisons` below).
        if !calls.is_empty() && !t.on_workers {
            out.push(Finding::new(
                Lint::AuthRlsInitplan,
                &object,
                format!("calls {} once per row", calls.join(", ")),
                format!("wrap each call in a sub-select: (select {}); in the model, `auth_uid(column)` and `auth_user_id()` already do", calls[0]),
            ));
        }
        if p.clauses().any(policy_text::reads_user_metadata) {
            out.push(Finding::new(
                Lint::UserMetadataInPolicy,
                &object,
                "reads user_metadata, which the user can edit",
                "decide on app_metadata or a table the user cannot write (a roles table with its own policies), never on user_metadata",
            ));
        }
        let writes = p.command != Command::Select;
        if writes && p.permissive && p.clauses().any(policy_text::always_true) {
            out.push(Finding::new(
                Lint::PolicyAlwaysTrue,
                &object,
                format!("a permissive {} policy whose condition is always true, for {}", p.command.keyword(), p.roles.join(", ")),
                "compare the row with the user (`auth_uid(user_id)`), or restrict the policy to a role only trusted code uses",
            ));
        }
    }
    for c in compared {
        let Some(column) = t.column(&c.column) else {
            continue;
        };
        if c.cast || !column.is_text() {
            out.push(Finding::new(
                Lint::UserIdNonTextColumn,
                t.object(),
                format!("policies compare the user id (text) with column {:?}, which is {}", c.column, column.ty),
                format!("make {:?} text (a `String` field) holding the user id, as auth.user_id() returns it", c.column),
            ));
        } else if t.indexed(std::slice::from_ref(&c.column)) == Some(false) {
            out.push(Finding::new(
                Lint::UnindexedPolicyColumn,
                t.object(),
                format!("policies compare column {:?} with the user id and no index leads with it", c.column),
                format!("remove `policy_indexes = false` / `#[column(policy_index = false)]` so the migration indexes it, or #[column(index)]; or: CREATE INDEX ON {} ({});", t.sql_name(), crate::sql::quote::ident(&c.column)),
            ));
        }
    }
}

fn command_of(privilege: Privilege) -> Command {
    match privilege {
        Privilege::Select => Command::Select,
        Privilege::Insert => Command::Insert,
        Privilege::Update => Command::Update,
        Privilege::Delete => Command::Delete,
    }
}

fn unused_grants(t: &TableFacts, out: &mut Vec<Finding>) {
    if !t.rls {
        return;
    }
    let mut unused: Vec<(&str, Vec<&'static str>)> = Vec::new();
    for (role, privilege) in &t.grants {
        let used = t
            .policies
            .iter()
            .any(|p| p.permissive && p.applies(role, command_of(*privilege)));
        if !used {
            match unused.iter_mut().find(|(r, _)| r == role) {
                Some((_, list)) => list.push(privilege.keyword()),
                None => unused.push((role, vec![privilege.keyword()])),
            }
        }
    }
    for (role, privileges) in unused {
        let list = privileges.join(", ");
        out.push(Finding::new(
            Lint::UnusedGrant,
            t.object(),
            format!("{role} holds {list} but no permissive policy gives {role} rows for it"),
            format!("drop {list} from the #[grant] for {role}, or add the policy it is for; or: REVOKE {list} ON {} FROM {};", t.sql_name(), sql_role(role)),
        ));
    }
}

fn foreign_keys(t: &TableFacts, out: &mut Vec<Finding>) {
    for fk in &t.foreign_keys {
        if t.indexed(&fk.columns) == Some(false) {
            let columns = fk.columns.join(", ");
            out.push(Finding::new(
                Lint::UnindexedForeignKey,
                t.object(),
                format!("foreign key {:?} ({columns}) has no index leading with its columns", fk.name),
                format!("#[column(index)] on the column (#[index(columns = [{columns}])] for several); or: CREATE INDEX ON {} ({});", t.sql_name(), sql_columns(&fk.columns)),
            ));
        }
    }
}

fn duplicate_indexes(t: &TableFacts, out: &mut Vec<Finding>) {
    let Some(indexes) = &t.indexes else {
        return;
    };
    for (k, a) in indexes.iter().enumerate() {
        let Some(b) = indexes[..k]
            .iter()
            .find(|b| b.columns == a.columns && b.unique == a.unique && b.predicate == a.predicate)
        else {
            continue;
        };
        out.push(Finding::new(
            Lint::DuplicateIndex,
            t.object(),
            format!("indexes {:?} and {:?} are the same ({})", b.name, a.name, a.columns.join(", ")),
            format!("keep one: remove the second #[index] / `index` (or `unique`) of the model; or: DROP INDEX {};", crate::sql::quote::qualified(&t.schema, &a.name)),
        ));
    }
}
