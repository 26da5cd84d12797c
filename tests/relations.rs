//! Rows with their related rows (`with`): parents with their children, children with their
//! parent (`Option`: the policies may hide it), nested two levels, each level filtered,
//! ordered and limited per row; one statement per level.

mod schemas;

use orgs_example::{OrgRole, Organization, Project, Task};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, SessionClaims};
use schemas::blog::{Author, BLOG, NewAuthor, NewPost, Post};
use schemas::orgs::{self, member, project, task};

/// org_1 (alice): Apollo (tasks a, b done, c) and Gemini (none); org_2 (carol): Hidden (x).
async fn orgs() -> (TestDatabase, Database) {
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
        vec![
            task(1, "a", false),
            task(1, "b", true),
            task(1, "c", false),
            task(3, "x", false),
        ],
    )
    .await
}

#[test]
fn the_statements_of_each_level() {
    let forms = [
        (
            "children, filtered and ordered",
            Project::select()
                .filter(Project::org_id.eq("org_1"))
                .with(
                    Task::select()
                        .filter(Task::done.eq(false))
                        .order_by(Task::id.desc()),
                )
                .to_sql(),
        ),
        (
            "children, at most 5 per parent",
            Project::select()
                .with(Task::select().order_by(Task::id.asc()).limit(5))
                .to_sql(),
        ),
        (
            "the parent",
            Task::select().with(Project::select()).to_sql(),
        ),
        (
            "two levels",
            Organization::select()
                .with(Project::select().with(Task::select().limit(3)))
                .to_sql(),
        ),
    ];
    let text: Vec<String> = forms
        .into_iter()
        .map(|(what, sql)| format!("{what}:\n{}", sql.expect("statements").join("\n")))
        .collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

#[tokio::test]
async fn parents_with_their_children_each_level_filtered_ordered_and_limited() {
    let (_db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let projects = Project::select()
        .order_by(Project::id.asc())
        .with(
            Task::select()
                .filter(Task::done.eq(false))
                .order_by(Task::id.desc()),
        )
        .fetch_all(&mut s)
        .await
        .unwrap();
    let seen: Vec<(&str, Vec<&str>)> = projects
        .iter()
        .map(|(p, tasks)| (p.name.as_str(), titles(tasks)))
        .collect();
    assert_eq!(seen, [("Apollo", vec!["c", "a"]), ("Gemini", vec![])]);

    // A limit per parent row.
    let first = Project::select()
        .order_by(Project::id.asc())
        .with(Task::select().order_by(Task::id.asc()).limit(2))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(titles(&first[0].1), ["a", "b"]);

    // Two levels: organizations, their projects, the projects' open tasks.
    let nested = Organization::select()
        .with(
            Project::select().order_by(Project::id.asc()).with(
                Task::select()
                    .filter(Task::done.eq(false))
                    .order_by(Task::id.asc()),
            ),
        )
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(nested.len(), 1, "org_2 is not alice's");
    let (org, projects) = &nested[0];
    assert_eq!(org.id, "org_1");
    let seen: Vec<(&str, Vec<&str>)> = projects
        .iter()
        .map(|(p, tasks)| (p.name.as_str(), titles(tasks)))
        .collect();
    assert_eq!(seen, [("Apollo", vec!["a", "c"]), ("Gemini", vec![])]);
    s.finish();
}

#[tokio::test]
async fn children_with_their_parent_which_the_policies_may_hide() {
    let (db, app) = orgs().await;
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let tasks = Task::select()
        .order_by(Task::id.asc())
        .with(Project::select())
        .fetch_all(&mut s)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>)> = tasks
        .iter()
        .map(|(t, p)| (t.title.as_str(), p.as_ref().map(|p| p.name.as_str())))
        .collect();
    assert_eq!(
        seen,
        [
            ("a", Some("Apollo")),
            ("b", Some("Apollo")),
            ("c", Some("Apollo"))
        ]
    );
    // A parent filtered out is None, as a hidden one would be.
    let only_gemini = Task::select()
        .with(Project::select().filter(Project::name.eq("Gemini")))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert!(only_gemini.iter().all(|(_, p)| p.is_none()));
    s.finish();
    drop(db);

    // Posts are public, their authors private: bob sees alice's post, not alice.
    let db = TestDatabase::new(&BLOG).await;
    db.seed(Author::insert_many(["user_alice", "user_bob"].map(
        |user| NewAuthor {
            user_id: Some(user.into()),
            name: user.into(),
        },
    )))
    .await;
    db.seed(Post::insert_many([(1, "by alice"), (2, "by bob")].map(
        |(author_id, title)| NewPost {
            author_id,
            title: title.into(),
        },
    )))
    .await;
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_bob"))
        .await
        .unwrap();
    let posts = Post::select()
        .order_by(Post::id.asc())
        .with(Author::select())
        .fetch_all(&mut s)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>)> = posts
        .iter()
        .map(|(p, a)| (p.title.as_str(), a.as_ref().map(|a| a.name.as_str())))
        .collect();
    assert_eq!(
        seen,
        [("by alice", None), ("by bob", Some("user_bob"))],
        "the hidden author is None, not an error"
    );
    s.finish();
}
