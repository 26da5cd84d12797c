//! Aggregates with `group_by` and `having`: their SQL, their Rust types, and what they count
//! on PostgreSQL: the rows the policies let through, and no others.

mod schemas;

use orgs_example::{Membership, OrgRole, Task};
use pgrls::query::{avg, count, count_distinct, max, min, sum};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, SessionClaims};
use rust_decimal::Decimal;
use schemas::orgs::{self, member, project, task};

/// project, tasks, distinct titles, sum and avg of ids, first title, last id.
type PerProject = (
    i64,
    i64,
    i64,
    Option<Decimal>,
    Option<Decimal>,
    Option<String>,
    Option<i64>,
);

#[test]
fn the_sql_of_aggregates() {
    let forms = [
        (
            "per group, with having and order",
            Task::select()
                .filter(Task::done.eq(false))
                .group_by(Task::project_id)
                .having(count().gt(1))
                .having(max(Task::id).lt(100))
                .order_by(Task::project_id.asc())
                .columns((
                    Task::project_id,
                    count(),
                    count_distinct(Task::title),
                    sum(Task::id),
                    avg(Task::id),
                    min(Task::title),
                ))
                .to_sql(),
        ),
        (
            "over all rows",
            Task::select().columns((count(), max(Task::id))).to_sql(),
        ),
    ];
    let text: Vec<String> = forms
        .into_iter()
        .map(|(what, sql)| format!("{what}:\n{}", sql.expect("a statement")))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

/// org_1: alice admin, bob member; org_2: carol admin, alice viewer, dave member.
/// Projects 1 and 2 in org_1, 3 in org_2; tasks 1-3 in project 1, 4 in project 2, 5-6 in 3.
async fn orgs() -> (TestDatabase, Database) {
    orgs::database(
        &["org_1", "org_2", "org_3"],
        vec![
            member("org_1", "user_alice", OrgRole::Admin),
            member("org_1", "user_bob", OrgRole::Member),
            member("org_2", "user_carol", OrgRole::Admin),
            member("org_2", "user_alice", OrgRole::Viewer),
            member("org_2", "user_dave", OrgRole::Member),
            member("org_3", "user_zoe", OrgRole::Admin),
        ],
        vec![
            project("org_1", "p"),
            project("org_1", "p"),
            project("org_3", "p"),
        ],
        vec![
            task(1, "a", false),
            task(1, "a", true),
            task(1, "c", false),
            task(2, "d", false),
            task(3, "e", false),
            task(3, "f", false),
        ],
    )
    .await
}

#[tokio::test]
async fn aggregates_count_only_the_rows_the_policies_let_through() {
    let (_db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();

    // My organizations with their member counts.
    let members: Vec<(String, i64)> = Membership::select()
        .group_by(Membership::org_id)
        .order_by(Membership::org_id.asc())
        .columns((Membership::org_id, count()))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        members,
        [("org_1".into(), 2), ("org_2".into(), 3)],
        "not org_3"
    );

    // Per project: the tasks, distinct titles, and the typed aggregates.
    let per_project: Vec<PerProject> = Task::select()
        .group_by(Task::project_id)
        .order_by(Task::project_id.asc())
        .columns((
            Task::project_id,
            count(),
            count_distinct(Task::title),
            sum(Task::id),
            avg(Task::id),
            min(Task::title),
            max(Task::id),
        ))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        per_project,
        [
            (
                1,
                3,
                2,
                Some(Decimal::from(6)),
                Some(Decimal::from(2)),
                Some("a".into()),
                Some(3)
            ),
            (
                2,
                1,
                1,
                Some(Decimal::from(4)),
                Some(Decimal::from(4)),
                Some("d".into()),
                Some(4)
            ),
        ],
        "project 3 is org_3's: not counted"
    );

    // Having, and an aggregate over every visible row.
    let busy: Vec<(i64, i64)> = Task::select()
        .filter(Task::done.eq(false))
        .group_by(Task::project_id)
        .having(count().ge(2))
        .columns((Task::project_id, count()))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(busy, [(1, 2)]);
    let all: (i64, Option<i64>) = Task::select()
        .columns((count(), max(Task::id)))
        .fetch_one(&mut s)
        .await
        .unwrap();
    assert_eq!(all, (4, Some(4)));
    s.finish();

    // Nothing visible: count 0, the others NULL.
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_nobody"))
        .await
        .unwrap();
    let none: (i64, Option<Decimal>, Option<i64>) = Task::select()
        .columns((count(), sum(Task::id), min(Task::id)))
        .fetch_one(&mut s)
        .await
        .unwrap();
    assert_eq!(none, (0, None, None));
    s.finish();
}
