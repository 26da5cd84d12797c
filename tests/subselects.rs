//! Sub-selects in query filters (`col.is_in(Other::col.filter(..))`, the typed form policies
//! use) and keyset pagination (`after`, `before`): their SQL, and their rows on PostgreSQL.

mod schemas;

use orgs_example::{NewTask, OrgRole, Project, Task};
use pgrls::query::exists;
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, SessionClaims};
use schemas::orgs::{self, member, project, task};

#[test]
fn the_sql_of_sub_selects_and_pages() {
    let forms = [
        (
            "is_in a sub-select",
            Task::select()
                .filter(Task::project_id.is_in(Project::id.filter(Project::name.eq("Apollo"))))
                .to_sql(),
        ),
        (
            "nested, and every row",
            Project::select()
                .filter(
                    Project::id.is_in(
                        Task::project_id
                            .filter(Task::done.eq(false))
                            .filter(Task::project_id.is_in(Project::id.all())),
                    ),
                )
                .to_sql(),
        ),
        (
            "exists, and not exists",
            Project::select()
                .filter(exists(
                    Task::project_id
                        .matches(Project::id)
                        .filter(Task::done.eq(false)),
                ))
                .filter(!exists(
                    Task::project_id
                        .matches(Project::id)
                        .filter(Task::done.eq(true)),
                ))
                .to_sql(),
        ),
        (
            "after, first page",
            Task::select().after((Task::id,), None).limit(10).to_sql(),
        ),
        (
            "after a cursor of two columns",
            Task::select()
                .filter(Task::project_id.eq(1))
                .after((Task::done, Task::id), Some((false, 17)))
                .limit(10)
                .to_sql(),
        ),
        (
            "before",
            Task::select()
                .before((Task::id,), Some((40,)))
                .limit(10)
                .to_sql(),
        ),
    ];
    let text: Vec<String> = forms
        .into_iter()
        .map(|(what, sql)| format!("{what}:\n{}", sql.expect("a statement")))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

/// org_1 (alice): Apollo (project 1, 25 tasks: every 5th done) and Gemini (2, none);
/// org_2 (carol): Hidden (3, one task).
async fn orgs() -> (TestDatabase, Database) {
    let mut tasks: Vec<NewTask> = (1..=25)
        .map(|n| task(1, &format!("t{n}"), n % 5 == 0))
        .collect();
    tasks.push(task(3, "x", false));
    orgs::database(
        &["org_1", "org_2"],
        vec![
            member("org_1", "user_alice", OrgRole::Member),
            member("org_2", "user_carol", OrgRole::Member),
        ],
        vec![
            project("org_1", "Apollo"),
            project("org_1", "Gemini"),
            project("org_2", "Hidden"),
        ],
        tasks,
    )
    .await
}

#[tokio::test]
async fn sub_selects_read_under_the_other_tables_policies() {
    let (_db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let apollo = Task::select()
        .filter(Task::project_id.is_in(Project::id.filter(Project::name.eq("Apollo"))))
        .count(&mut s)
        .await
        .unwrap();
    assert_eq!(apollo, 25);
    // Projects with an open task: Apollo; not Gemini (none), not Hidden (not alice's).
    let busy: Vec<(String,)> = Project::select()
        .filter(Project::id.is_in(Task::project_id.filter(Task::done.eq(false))))
        .columns((Project::name,))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(busy, [("Apollo".to_string(),)]);
    // The same with EXISTS, and NOT EXISTS: projects without a done task.
    let busy: Vec<(String,)> = Project::select()
        .filter(exists(
            Task::project_id
                .matches(Project::id)
                .filter(Task::done.eq(false)),
        ))
        .columns((Project::name,))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(busy, [("Apollo".to_string(),)]);
    let none_done: Vec<(String,)> = Project::select()
        .filter(!exists(
            Task::project_id
                .matches(Project::id)
                .filter(Task::done.eq(true)),
        ))
        .order_by(Project::id.asc())
        .columns((Project::name,))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        none_done,
        [("Gemini".to_string(),)],
        "Hidden is not alice's"
    );
    // Hidden's id named in a sub-select that reads it as alice: nothing.
    let hidden = Task::select()
        .filter(Task::project_id.is_in(Project::id.filter(Project::name.eq("Hidden"))))
        .count(&mut s)
        .await
        .unwrap();
    assert_eq!(hidden, 0);
    s.finish();
}

#[tokio::test]
async fn keyset_pages_cover_every_row_once() {
    let (_db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = Task::select()
            .after((Task::id,), cursor)
            .limit(10)
            .fetch_all(&mut s)
            .await
            .unwrap();
        let Some(last) = page.last() else {
            break;
        };
        cursor = Some((last.id,));
        pages += 1;
        seen.extend(page.iter().map(|t| t.id));
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=25).collect::<Vec<i64>>(), "in order, each once");

    // Two columns: open tasks first, then done ones, by id within each.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = Task::select()
            .after((Task::done, Task::id), cursor)
            .limit(7)
            .fetch_all(&mut s)
            .await
            .unwrap();
        let Some(last) = page.last() else {
            break;
        };
        cursor = Some((last.done, last.id));
        seen.extend(page.iter().map(|t| (t.done, t.id)));
    }
    let mut expected: Vec<(bool, i64)> = (1..=25).map(|n| (n % 5 == 0, n)).collect();
    expected.sort();
    assert_eq!(seen, expected);

    // Backward from the end.
    let last_page = Task::select()
        .before((Task::id,), None)
        .limit(10)
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(last_page.first().map(|t| t.id), Some(25));
    let before = Task::select()
        .before((Task::id,), Some((16,)))
        .limit(3)
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        before.iter().map(|t| t.id).collect::<Vec<_>>(),
        [15, 14, 13]
    );
    s.finish();
}
