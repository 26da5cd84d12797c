//! The Citus target without a cluster: what the model becomes there, and what `check` refuses
//! with the reason and the fix. `tests/citus` (`scripts/test-citus`) applies the migrations to
//! a coordinator and two workers.

use pgrls::migrations::{DiffError, SchemaDef, diff, migration};
use pgrls::{Auth, Schema, Table, Target};

#[derive(Table)]
#[table(name = "orgs", reference)]
#[crud_policy(role = authenticated, read = id == clerk_org_id())]
pub struct Org {
    #[column(primary_key)]
    pub id: String,
}

#[derive(Table)]
#[table(name = "docs", distribute_by = org_id)]
#[primary_key(org_id, id)]
#[crud_policy(
    role = authenticated,
    read = org_id == clerk_org_id(),
    modify = org_id == clerk_org_id() && owner == auth_user_id()
)]
pub struct Doc {
    #[column(identity)]
    pub id: i64,
    #[column(references = Org::id)]
    pub org_id: String,
    pub owner: String,
}

#[derive(Table)]
#[table(name = "comments", distribute_by = org_id)]
#[primary_key(org_id, id)]
#[foreign_key(org_id, doc_id, references = Doc, on_delete = cascade)]
#[crud_policy(role = authenticated, read = org_id == clerk_org_id())]
pub struct Comment {
    #[column(identity)]
    pub id: i64,
    pub org_id: String,
    pub doc_id: i64,
}

const CITUS: Schema = Schema::new(&[Org::TABLE, Doc::TABLE, Comment::TABLE]).target(Target::Citus);

fn errors(schema: &SchemaDef) -> String {
    match migration(schema) {
        Ok(sql) => panic!("accepted:\n{sql}"),
        Err(errors) => errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn on_citus_tables_are_placed_and_their_policies_call_the_functions_directly() {
    let sql = migration(&CITUS.into()).unwrap();
    for expected in [
        "SELECT create_reference_table('\"public\".\"orgs\"');",
        "SELECT create_distributed_table('\"public\".\"docs\"', 'org_id');",
        // Inferred from the key on (org_id, doc_id) → docs (org_id, id).
        "SELECT create_distributed_table('\"public\".\"comments\"', 'org_id', colocate_with => '\"public\".\"docs\"');",
        "\"docs\".\"owner\" = auth.user_id()",
        "ALTER ROLE \"authenticated\" LOGIN;",
    ] {
        assert!(sql.contains(expected), "no {expected} in:\n{sql}");
    }
    assert!(!sql.contains("(select "), "a sub-select on Citus:\n{sql}");
    // Each table is placed before any key refers to it, and keys come once all are placed.
    let placed = sql
        .find("create_distributed_table('\"public\".\"comments\"")
        .unwrap();
    let keyed = sql.find("FOREIGN KEY").unwrap();
    assert!(placed < keyed, "{sql}");
}

#[test]
fn the_same_structs_on_one_server_keep_the_single_server_forms() {
    let sql = migration(&Schema::new(CITUS.tables).into()).unwrap();
    assert!(!sql.contains("create_"), "{sql}");
    assert!(!sql.contains("\" LOGIN;"), "{sql}");
    assert!(sql.contains("(select auth.user_id())"), "{sql}");
}

#[derive(Table)]
#[table(name = "members", distribute_by = org_id)]
#[primary_key(org_id, user_id)]
#[crud_policy(role = authenticated, read = user_id == auth_user_id())]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
}

#[derive(Table)]
#[table(name = "notes", distribute_by = org_id)]
#[primary_key(org_id, id)]
#[crud_policy(
    role = authenticated,
    read = org_id.is_in(Member::org_id.filter(Member::user_id == auth_user_id()))
)]
pub struct Note {
    pub id: i64,
    pub org_id: String,
}

#[test]
fn a_sub_select_in_a_placed_tables_policy_is_refused_with_what_to_write() {
    let schema: SchemaDef = Schema::new(&[Member::TABLE, Note::TABLE])
        .target(Target::Citus)
        .into();
    let text = errors(&schema);
    assert!(text.contains("table public.notes"), "{text}");
    assert!(text.contains("Subqueries are not supported"), "{text}");
    assert!(text.contains("org_id == clerk_org_id()"), "{text}");
}

#[test]
fn citus_needs_the_portable_auth_functions() {
    let schema: SchemaDef = CITUS.auth(Auth::Neon).into();
    assert!(errors(&schema).contains("needs Auth::Postgres"));
}

#[derive(Table)]
#[table(name = "tags", reference)]
#[foreign_key(org_id, doc, references = Doc)]
#[crud_policy(role = authenticated, read = true)]
pub struct Tag {
    #[column(primary_key)]
    pub id: i64,
    pub org_id: String,
    pub doc: i64,
}

#[test]
fn keys_citus_cannot_check_are_refused() {
    // A reference table's key to a distributed table.
    let schema: SchemaDef = Schema::new(&[Org::TABLE, Doc::TABLE, Tag::TABLE])
        .target(Target::Citus)
        .into();
    let text = errors(&schema);
    assert!(
        text.contains("is a reference table with a foreign key to the distributed table"),
        "{text}"
    );
}

#[test]
fn a_change_of_placement_is_not_generated() {
    let old: SchemaDef = Schema::new(&[Org::TABLE]).target(Target::Citus).into();
    let mut new = old.clone();
    new.tables[0].distribution = None;
    match diff(&old, &new, Default::default()) {
        Err(DiffError::Schema(errors)) => {
            let text = errors[0].to_string();
            assert!(text.contains("undistribute_table"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_table_added_on_citus_is_placed_before_its_keys_and_policies() {
    let old: SchemaDef = Schema::new(&[Org::TABLE, Doc::TABLE])
        .target(Target::Citus)
        .into();
    let plan = diff(&old, &CITUS.into(), Default::default()).unwrap();
    let sql = plan.sql();
    let placed = sql.find("create_distributed_table").unwrap();
    let keyed = sql.find("FOREIGN KEY").unwrap();
    let policy = sql.find("CREATE POLICY").unwrap();
    assert!(placed < keyed && keyed < policy, "{sql}");
    // On Citus an ALTER TABLE runs in a DO block (see sql/citus.rs).
    assert!(sql.contains("DO $rls$\nBEGIN\n    ALTER TABLE"), "{sql}");
}
