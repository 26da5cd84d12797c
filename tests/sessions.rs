//! Sessions and typed builders on a real PostgreSQL: every query runs as the verified user,
//! and the policies alone decide what each user sees and changes.

mod schemas;
mod support;

use pgrls::{Database, Model, QueryError, SessionClaims};
use schemas::projects::{NewProject, Project};
use todos_example::{NewTodo, Todo};

fn todo(task: &str) -> NewTodo {
    NewTodo {
        user_id: None,
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

#[tokio::test]
async fn two_users_crud_through_the_builders() {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    let app = Database::new(db.login_pool(4).await)
        .await
        .expect("rls_app is a clean login role");
    let (alice, bob) = (
        SessionClaims::new("user_alice"),
        SessionClaims::new("user_bob"),
    );

    let mut s = app.as_user(&alice).await.unwrap();
    assert_eq!(s.user_id(), Some("user_alice"));
    let first = Todo::insert(todo("buy milk"))
        .returning_one(&mut s)
        .await
        .unwrap();
    assert_eq!(
        first.user_id, "user_alice",
        "the default is the session's user"
    );
    assert!(!first.is_complete);
    let more = Todo::insert_many([todo("write tests"), todo("ship")])
        .returning(&mut s)
        .await
        .unwrap();
    assert_eq!(more.len(), 2);
    s.commit().await.unwrap();

    let mut s = app.as_user(&bob).await.unwrap();
    let bobs = Todo::insert(todo("walk dog"))
        .returning_one(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();

    // No `WHERE user_id = ...` anywhere below: the policies scope every statement.
    let mut s = app.as_user(&alice).await.unwrap();
    let mine = Todo::select()
        .order_by(Todo::id.asc())
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|t| t.task.as_str()).collect::<Vec<_>>(),
        ["buy milk", "write tests", "ship"]
    );
    assert!(mine.iter().all(|t| t.user_id == "user_alice"));
    assert_eq!(Todo::select().count(&mut s).await.unwrap(), 3);
    let pairs: Vec<(i64, String)> = Todo::select()
        .filter(Todo::task.ne("ship"))
        .order_by(Todo::task.desc())
        .limit(1)
        .columns((Todo::id, Todo::task))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(pairs, [(more[0].id, "write tests".to_string())]);
    // Bob's row is invisible, by id too.
    assert!(
        Todo::select()
            .filter(Todo::id.eq(bobs.id))
            .fetch_optional(&mut s)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        Todo::select()
            .filter(Todo::id.eq(bobs.id))
            .fetch_one(&mut s)
            .await,
        Err(QueryError::NotFound)
    ));
    let done = Todo::update()
        .set(Todo::is_complete, true)
        .returning(&mut s)
        .await
        .unwrap();
    assert_eq!(done.len(), 3, "only Alice's rows");
    let gone = Todo::delete()
        .filter(Todo::id.is_in([bobs.id, first.id]))
        .returning(&mut s)
        .await
        .unwrap();
    assert_eq!(gone.iter().map(|t| t.id).collect::<Vec<_>>(), [first.id]);
    s.commit().await.unwrap();

    // Writing in another user's name is refused with a typed error.
    let mut s = app.as_user(&alice).await.unwrap();
    let forged = Todo::insert(NewTodo {
        user_id: Some("user_bob".into()),
        ..todo("forged")
    })
    .execute(&mut s)
    .await;
    assert!(
        matches!(forged, Err(QueryError::PolicyViolation(_))),
        "{forged:?}"
    );
    drop(s);
    let mut s = app.as_user(&alice).await.unwrap();
    let moved = Todo::update()
        .set(Todo::user_id, "user_bob")
        .execute(&mut s)
        .await;
    assert!(
        matches!(moved, Err(QueryError::PolicyViolation(_))),
        "{moved:?}"
    );
    s.rollback().await.unwrap();

    let mut s = app.as_user(&bob).await.unwrap();
    let bob_view = Todo::select().fetch_all(&mut s).await.unwrap();
    assert_eq!(bob_view.len(), 1);
    assert!(!bob_view[0].is_complete, "Alice's update reached Bob's row");
    drop(s);

    // The todos schema has no anonymous policy, hence no grant.
    let mut s = app.anonymous().await.unwrap();
    assert_eq!(s.user_id(), None);
    let denied = Todo::select().fetch_all(&mut s).await;
    assert!(
        matches!(denied, Err(QueryError::PermissionDenied(_))),
        "{denied:?}"
    );
}

#[tokio::test]
async fn anonymous_sees_only_what_its_policy_allows() {
    let db = pgrls::testing::TestDatabase::new(&schemas::projects::SCHEMA).await;
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    let new = |slug: &str, public: bool| NewProject {
        owner_id: None,
        slug: slug.into(),
        name: slug.into(),
        is_public: Some(public),
        archived: None,
        budget: None,
    };
    let mut s = app
        .as_user(&SessionClaims::new("user_carol"))
        .await
        .unwrap();
    Project::insert_many([new("open", true), new("closed", false)])
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();

    let mut s = app.anonymous().await.unwrap();
    let slugs: Vec<(String,)> = Project::select()
        .columns((Project::slug,))
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(slugs, [("open".to_string(),)]);
    let write = Project::insert(new("mine", true)).execute(&mut s).await;
    assert!(
        matches!(write, Err(QueryError::PermissionDenied(_))),
        "{write:?}"
    );
}

#[tokio::test]
async fn login_roles_that_defeat_the_policies_are_refused() {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    // The superuser the harness connects as.
    match Database::new(db.owner().clone()).await {
        Err(QueryError::LoginRole(problems)) => {
            assert!(matches!(problems[0], pgrls::LoginRoleProblem::Superuser(_)));
            let text = QueryError::LoginRole(problems).to_string();
            assert!(text.contains("NOSUPERUSER NOBYPASSRLS NOINHERIT"), "{text}");
        }
        other => panic!("expected a login-role error, got {other:?}"),
    }
    let app_pool = db.login_pool(2).await;
    // Grants of its own, then ownership.
    sqlx::query("grant select on todos to rls_app")
        .execute(db.owner())
        .await
        .unwrap();
    match Database::new(app_pool.clone()).await {
        Err(QueryError::LoginRole(problems)) => assert_eq!(
            problems,
            [pgrls::LoginRoleProblem::HoldsGrants {
                role: "rls_app".into(),
                tables: vec!["public.todos".into()]
            }]
        ),
        other => panic!("expected a login-role error, got {other:?}"),
    }
    sqlx::raw_sql("revoke all on todos from rls_app; alter table todos owner to rls_app")
        .execute(db.owner())
        .await
        .unwrap();
    match Database::new(app_pool.clone()).await {
        Err(QueryError::LoginRole(problems)) => assert!(
            matches!(&problems[..], [pgrls::LoginRoleProblem::OwnsTables { tables, .. }] if tables == &["public.todos"]),
            "{problems:?}"
        ),
        other => panic!("expected a login-role error, got {other:?}"),
    }
    // FORCE ROW LEVEL SECURITY makes ownership harmless.
    sqlx::query("alter table todos force row level security")
        .execute(db.owner())
        .await
        .unwrap();
    Database::new(app_pool)
        .await
        .expect("forced RLS binds the owner too");
}

/// With the policies alone, one user's rows come through the same index as with an
/// explicit `WHERE user_id = ...`.
#[tokio::test]
async fn policy_only_query_plans_like_an_explicit_filter() {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    sqlx::query(
        "insert into todos (user_id, task) \
         select 'user_' || (i % 500), 'task ' || i from generate_series(1, 50000) i",
    )
    .execute(db.owner())
    .await
    .unwrap();
    sqlx::query("analyze todos")
        .execute(db.owner())
        .await
        .unwrap();
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    let mut s = app.as_user(&SessionClaims::new("user_42")).await.unwrap();
    let plan = |sql: &'static str| sqlx::query_scalar::<_, serde_json::Value>(sql);
    let policy_only = plan("explain (format json) select * from todos")
        .fetch_one(&mut *s.connection())
        .await
        .unwrap();
    let explicit = plan("explain (format json) select * from todos where user_id = 'user_42'")
        .fetch_one(&mut *s.connection())
        .await
        .unwrap();
    let indexes = |plan: &serde_json::Value| {
        let text = plan.to_string();
        text.match_indices("\"Index Name\":\"")
            .map(|(i, m)| text[i + m.len()..].split('"').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        indexes(&policy_only),
        ["todos_user_id_idx"],
        "{policy_only:#}"
    );
    assert_eq!(indexes(&policy_only), indexes(&explicit), "{explicit:#}");
}

use pgrls::Conn as _;
