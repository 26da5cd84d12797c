//! Joins of two tables (`inner_join`, `left_join`, and their `_on` forms): their SQL, and their
//! rows on PostgreSQL under both tables' policies.

mod schemas;

use orgs_example::{Membership, OrgRole, Project, Task};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, SessionClaims};
use schemas::blog::{Author, BLOG, NewAuthor, NewPost, Post};
use schemas::orgs::{self, member, project, task};

#[test]
fn the_sql_of_each_join() {
    let forms = [
        (
            "inner_join along the foreign key, parent to children",
            Project::select()
                .inner_join(Task::select())
                .order_by(Task::id.asc())
                .to_sql(),
        ),
        (
            "child to parent, filters and orders on both tables, limit",
            Task::select()
                .filter(Task::done.eq(false))
                .order_by(Task::title.asc())
                .inner_join(Project::select().filter(Project::org_id.eq("org_1")))
                .filter(Project::name.ne("x"))
                .order_by(Project::id.desc())
                .limit(10)
                .offset(5)
                .to_sql(),
        ),
        (
            "left_join: the joined select's filters go into ON",
            Project::select()
                .left_join(Task::select().filter(Task::done.eq(false)))
                .filter(Project::org_id.eq("org_1"))
                .to_sql(),
        ),
        (
            "columns of both tables",
            Project::select()
                .left_join(Task::select())
                .columns((Project::name, Task::title, Task::done))
                .to_sql(),
        ),
        (
            "inner_join_on two typed columns",
            Membership::select()
                .inner_join_on(Project::select(), Membership::org_id, Project::org_id)
                .to_sql(),
        ),
    ];
    let text: Vec<String> = forms
        .into_iter()
        .map(|(what, sql)| format!("{what}:\n{}", sql.expect("a statement")))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

/// org_1 (alice admin): Apollo with tasks a (open) and b (done), Gemini without tasks;
/// org_2 (carol admin): Hidden with task x.
async fn orgs() -> (TestDatabase, Database) {
    orgs::database(
        &["org_1", "org_2"],
        vec![
            member("org_1", "user_alice", OrgRole::Admin),
            member("org_2", "user_carol", OrgRole::Admin),
        ],
        vec![
            project("org_1", "Apollo"),
            project("org_1", "Gemini"),
            project("org_2", "Hidden"),
        ],
        vec![task(1, "a", false), task(1, "b", true), task(3, "x", false)],
    )
    .await
}

#[tokio::test]
async fn joins_see_what_both_tables_policies_let_through() {
    let (_db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();

    let pairs = Project::select()
        .inner_join(Task::select())
        .order_by(Task::id.asc())
        .fetch_all(&mut s)
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(p, t)| (p.name.as_str(), t.title.as_str()))
        .collect();
    assert_eq!(
        names,
        [("Apollo", "a"), ("Apollo", "b")],
        "org_2's rows are hidden"
    );

    // Every project of alice's, with its open tasks or None.
    let open = Project::select()
        .left_join(Task::select().filter(Task::done.eq(false)))
        .order_by(Project::id.asc())
        .fetch_all(&mut s)
        .await
        .unwrap();
    let names: Vec<(&str, Option<&str>)> = open
        .iter()
        .map(|(p, t)| (p.name.as_str(), t.as_ref().map(|t| t.title.as_str())))
        .collect();
    assert_eq!(names, [("Apollo", Some("a")), ("Gemini", None)]);

    // Columns of both tables; the right table's are Option in a left join.
    let names: Vec<(String, Option<String>)> = Project::select()
        .order_by(Project::id.asc())
        .left_join(Task::select().filter(Task::done.eq(false)))
        .order_by(Task::id.asc())
        .columns((Project::name, Task::title))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        names,
        [
            ("Apollo".to_string(), Some("a".to_string())),
            ("Gemini".to_string(), None)
        ]
    );

    // From the child, filtered on both sides, with the explicit form.
    let one = Task::select()
        .filter(Task::done.eq(true))
        .inner_join_on(Project::select(), Task::project_id, Project::id)
        .filter(Project::name.eq("Apollo"))
        .fetch_one(&mut s)
        .await
        .unwrap();
    assert_eq!((one.0.title.as_str(), one.1.name.as_str()), ("b", "Apollo"));
    s.finish();

    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_nobody"))
        .await
        .unwrap();
    let none = Project::select()
        .left_join(Task::select())
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert!(none.is_empty(), "a stranger sees no project, joined or not");
    s.finish();
}

#[tokio::test]
async fn a_left_join_through_a_parent_the_policies_hide_gives_none() {
    let db = TestDatabase::new(&BLOG).await;
    db.seed(Author::insert_many([
        NewAuthor {
            user_id: Some("user_alice".into()),
            name: "Alice".into(),
        },
        NewAuthor {
            user_id: Some("user_bob".into()),
            name: "Bob".into(),
        },
    ]))
    .await;
    db.seed(Post::insert_many([
        NewPost {
            author_id: 1,
            title: "by alice".into(),
        },
        NewPost {
            author_id: 2,
            title: "by bob".into(),
        },
    ]))
    .await;
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_bob"))
        .await
        .unwrap();
    let posts = Post::select()
        .left_join(Author::select())
        .order_by(Post::id.asc())
        .fetch_all(&mut s)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>)> = posts
        .iter()
        .map(|(p, a)| (p.title.as_str(), a.as_ref().map(|a| a.name.as_str())))
        .collect();
    assert_eq!(
        seen,
        [("by alice", None), ("by bob", Some("Bob"))],
        "the post is there, its author hidden: None, not an error"
    );
    // The inner join drops the post whose author is hidden.
    let inner = Post::select()
        .inner_join(Author::select())
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(inner.len(), 1);
    s.finish();
}
