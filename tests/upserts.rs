//! Upserts (`insert(..).on_conflict(key!(..))`): their SQL, and what PostgreSQL does with
//! them under the policies of the orgs example, where only admins add and change members.

mod schemas;

use orgs_example::{Membership, NewOrganization, OrgRole, Organization};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, QueryError, SessionClaims, key};
use schemas::orgs::{self, member};

#[test]
fn the_sql_of_each_upsert() {
    let forms = [
        (
            "do_nothing",
            Membership::insert(member("org_1", "user_x", OrgRole::Member))
                .on_conflict(key!(Membership, org_id, user_id))
                .do_nothing()
                .to_sql(),
        ),
        (
            "do_update, set_excluded, set, filter",
            Membership::insert_many([
                member("org_1", "user_x", OrgRole::Member),
                member("org_1", "user_y", OrgRole::Viewer),
            ])
            .on_conflict(key!(Membership, user_id, org_id))
            .do_update()
            .set_excluded(Membership::role)
            .set(Membership::user_id, "user_z")
            .filter(Membership::role.ne(OrgRole::Admin))
            .to_sql(),
        ),
        (
            "on a single-column primary key",
            Organization::insert(NewOrganization {
                id: "org_1".into(),
                name: "One".into(),
            })
            .on_conflict(key!(Organization, id))
            .do_update()
            .set_excluded(Organization::name)
            .to_sql(),
        ),
    ];
    let text: Vec<String> = forms
        .into_iter()
        .map(|(what, sql)| format!("{what}:\n{}", sql.expect("a statement")))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn an_upsert_that_says_nothing_to_do_is_refused() {
    let empty = Membership::insert(member("org_1", "user_x", OrgRole::Member))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_update()
        .to_sql()
        .unwrap_err();
    assert!(matches!(empty, QueryError::Usage(_)), "{empty:?}");
    let filtered = Membership::insert(member("org_1", "user_x", OrgRole::Member))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_nothing()
        .filter(Membership::role.eq(OrgRole::Admin))
        .to_sql()
        .unwrap_err();
    assert!(matches!(filtered, QueryError::Usage(_)), "{filtered:?}");
}

/// org_1: alice admin, bob member; org_2: carol admin, dave member.
async fn setup() -> (TestDatabase, Database) {
    orgs::database(
        &["org_1", "org_2"],
        vec![
            member("org_1", "user_alice", OrgRole::Admin),
            member("org_1", "user_bob", OrgRole::Member),
            member("org_2", "user_carol", OrgRole::Admin),
            member("org_2", "user_dave", OrgRole::Member),
        ],
        Vec::new(),
        Vec::new(),
    )
    .await
}

async fn role_of(db: &TestDatabase, org: &str, user: &str) -> Option<String> {
    sqlx::query_scalar("select role::text from memberships where org_id = $1 and user_id = $2")
        .bind(org)
        .bind(user)
        .fetch_optional(db.owner())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_adds_and_changes_members_with_one_statement() {
    let (db, app) = setup().await;
    let alice = SessionClaims::new("user_alice");
    let upsert = |user: &str, role: OrgRole| {
        Membership::insert(member("org_1", user, role))
            .on_conflict(key!(Membership, org_id, user_id))
            .do_update()
            .set_excluded(Membership::role)
    };

    let mut s = app.as_user(&alice).await.unwrap();
    let added = upsert("user_erin", OrgRole::Member)
        .returning(&mut s)
        .await
        .unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].role, OrgRole::Member);
    let changed = upsert("user_erin", OrgRole::Viewer)
        .returning(&mut s)
        .await
        .unwrap();
    assert_eq!(changed[0].role, OrgRole::Viewer, "the same row, updated");
    assert_eq!(
        upsert("user_bob", OrgRole::Admin)
            .execute(&mut s)
            .await
            .unwrap(),
        1
    );
    s.commit().await.unwrap();
    assert_eq!(
        role_of(&db, "org_1", "user_erin").await.as_deref(),
        Some("viewer")
    );
    assert_eq!(
        role_of(&db, "org_1", "user_bob").await.as_deref(),
        Some("admin")
    );

    // DO NOTHING leaves the existing row; a WHERE that does not hold leaves it too.
    let mut s = app.as_user(&alice).await.unwrap();
    let none = Membership::insert(member("org_1", "user_erin", OrgRole::Admin))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_nothing()
        .execute(&mut s)
        .await
        .unwrap();
    assert_eq!(none, 0);
    let kept = upsert("user_bob", OrgRole::Viewer)
        .filter(Membership::role.ne(OrgRole::Admin))
        .execute(&mut s)
        .await
        .unwrap();
    assert_eq!(kept, 0, "bob is an admin now: the WHERE keeps his row");
    s.commit().await.unwrap();
    assert_eq!(
        role_of(&db, "org_1", "user_erin").await.as_deref(),
        Some("viewer")
    );
    assert_eq!(
        role_of(&db, "org_1", "user_bob").await.as_deref(),
        Some("admin")
    );
}

#[tokio::test]
async fn an_upsert_over_another_organizations_row_is_refused() {
    let (db, app) = setup().await;
    let alice = SessionClaims::new("user_alice");

    // dave is a member of org_2, where alice is nobody. PostgreSQL checks the INSERT
    // policies' WITH CHECK on the row proposed before it looks for a conflict.
    let mut s = app.as_user(&alice).await.unwrap();
    let refused = Membership::insert(member("org_2", "user_dave", OrgRole::Admin))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_update()
        .set_excluded(Membership::role)
        .execute(&mut s)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, QueryError::PolicyViolation(_)),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("an INSERT policy's"),
        "the error names the command whose policy refused: {refused}"
    );
    drop(s);

    // The row proposed passes (alice is an admin of org_1), the row it conflicts with, her
    // own, does not pass the UPDATE policy's USING (nobody changes their own role): an upsert
    // reports it instead of skipping the row as a plain UPDATE would.
    let mut s = app.as_user(&alice).await.unwrap();
    let refused = Membership::insert(member("org_1", "user_alice", OrgRole::Viewer))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_update()
        .set_excluded(Membership::role)
        .execute(&mut s)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, QueryError::PolicyViolation(_)),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("an UPDATE policy's USING"),
        "the error names the command whose policy refused: {refused}"
    );
    let skipped = Membership::update()
        .set(Membership::role, OrgRole::Viewer)
        .filter(Membership::user_id.eq("user_alice"))
        .execute(&mut app.as_user(&alice).await.unwrap())
        .await
        .unwrap();
    assert_eq!(skipped, 0, "a plain UPDATE skips the row instead");
    drop(s);

    // No conflict: the insert path, refused by the INSERT policy's WITH CHECK.
    let mut s = app.as_user(&alice).await.unwrap();
    let refused = Membership::insert(member("org_2", "user_zed", OrgRole::Admin))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_update()
        .set_excluded(Membership::role)
        .execute(&mut s)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, QueryError::PolicyViolation(_)),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("WITH CHECK"), "{refused}");
    drop(s);

    // A member, not an admin, of org_1.
    let mut s = app.as_user(&SessionClaims::new("user_bob")).await.unwrap();
    let refused = Membership::insert(member("org_1", "user_alice", OrgRole::Viewer))
        .on_conflict(key!(Membership, org_id, user_id))
        .do_update()
        .set_excluded(Membership::role)
        .execute(&mut s)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, QueryError::PolicyViolation(_)),
        "{refused:?}"
    );
    drop(s);
    assert_eq!(
        role_of(&db, "org_2", "user_dave").await.as_deref(),
        Some("member")
    );
    assert_eq!(role_of(&db, "org_2", "user_zed").await, None);
    assert_eq!(
        role_of(&db, "org_1", "user_alice").await.as_deref(),
        Some("admin")
    );
}
