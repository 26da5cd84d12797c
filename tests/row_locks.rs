//! Row locks on a select (`for_update`, `for_no_key_update`, `for_share`, `for_key_share`,
//! with `skip_locked` or `no_wait`): their SQL, and what they do on PostgreSQL under the
//! policies.

mod schemas;

use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, QueryError, SessionClaims};
use schemas::projects::{NewProject, Project};
use std::collections::BTreeSet;
use todos_example::{NewTodo, Todo};

#[test]
fn the_sql_of_each_lock() {
    let forms = [
        ("for_update", Todo::select().for_update().to_sql()),
        (
            "for_no_key_update, limit",
            Todo::select().limit(1).for_no_key_update().to_sql(),
        ),
        ("for_share", Todo::select().for_share().to_sql()),
        ("for_key_share", Todo::select().for_key_share().to_sql()),
        (
            "a queue: filter, order, limit, for_update, skip_locked",
            Todo::select()
                .filter(Todo::is_complete.eq(false))
                .order_by(Todo::id.asc())
                .limit(1)
                .for_update()
                .skip_locked()
                .to_sql(),
        ),
        (
            "no_wait, columns",
            Todo::select()
                .filter(Todo::id.eq(7))
                .for_update()
                .no_wait()
                .columns((Todo::id,))
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
fn a_wait_policy_without_a_lock_is_refused() {
    let refused = Todo::select().skip_locked().to_sql().unwrap_err();
    assert!(
        matches!(refused, QueryError::Usage(m) if m.contains("for_update()")),
        "{refused:?}"
    );
}

fn open_todo(task: String) -> NewTodo {
    NewTodo {
        user_id: None,
        task,
        is_complete: None,
        inserted_at: None,
    }
}

/// The queue pattern: workers each take the next open todo `FOR UPDATE SKIP LOCKED`, mark it
/// done and commit. Every todo is taken exactly once, none twice, none by another user.
#[tokio::test]
async fn eight_workers_claim_a_thousand_todos_each_exactly_once() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let app = Database::new(db.login_pool(8).await).await.unwrap();
    let worker = SessionClaims::new("user_queue");
    let mut s = app.as_user(&worker).await.unwrap();
    Todo::insert_many((0..1000).map(|n| open_todo(format!("job {n}"))))
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    // Another user's open todos: never taken by this user's workers.
    let mut s = app
        .as_user(&SessionClaims::new("user_other"))
        .await
        .unwrap();
    Todo::insert_many((0..50).map(|n| open_todo(format!("other {n}"))))
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, worker) = (app.clone(), worker.clone());
        workers.spawn(async move {
            let mut taken = Vec::new();
            loop {
                let mut s = app.as_user(&worker).await.unwrap();
                let next = Todo::select()
                    .filter(Todo::is_complete.eq(false))
                    .order_by(Todo::id.asc())
                    .limit(1)
                    .for_update()
                    .skip_locked()
                    .fetch_optional(&mut s)
                    .await
                    .unwrap();
                let Some(todo) = next else {
                    break;
                };
                assert_eq!(todo.user_id, "user_queue");
                Todo::update()
                    .set(Todo::is_complete, true)
                    .filter(Todo::id.eq(todo.id))
                    .execute(&mut s)
                    .await
                    .unwrap();
                s.commit().await.unwrap();
                taken.push(todo.id);
            }
            taken
        });
    }
    let all: Vec<Vec<i64>> = workers.join_all().await;
    let total: usize = all.iter().map(Vec::len).sum();
    let distinct: BTreeSet<i64> = all.iter().flatten().copied().collect();
    assert_eq!(total, 1000, "every todo taken once: {total} takes");
    assert_eq!(distinct.len(), 1000, "none taken twice");
    assert!(
        all.iter().filter(|w| !w.is_empty()).count() > 1,
        "the work was shared: {:?}",
        all.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_other"))
        .await
        .unwrap();
    let others_open = Todo::select()
        .filter(Todo::is_complete.eq(false))
        .count(&mut s)
        .await
        .unwrap();
    assert_eq!(others_open, 50, "another user's todos are untouched");
    s.finish();
}

#[tokio::test]
async fn no_wait_fails_at_once_on_a_locked_row_and_skip_locked_passes_it() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let app = Database::new(db.login_pool(3).await).await.unwrap();
    let user = SessionClaims::new("user_alice");
    let mut s = app.as_user(&user).await.unwrap();
    let row = Todo::insert(open_todo("locked".into()))
        .returning_one(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();

    let mut holder = app.as_user(&user).await.unwrap();
    let held = Todo::select()
        .filter(Todo::id.eq(row.id))
        .for_update()
        .fetch_all(&mut holder)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);

    let mut s = app.as_user(&user).await.unwrap();
    let busy = Todo::select()
        .filter(Todo::id.eq(row.id))
        .for_update()
        .no_wait()
        .fetch_all(&mut s)
        .await
        .unwrap_err();
    match &busy {
        QueryError::Database(sqlx::Error::Database(e)) => {
            assert_eq!(e.code().as_deref(), Some("55P03"), "{busy}")
        }
        other => panic!("expected lock_not_available, got {other:?}"),
    }
    drop(s);
    let mut s = app.as_user(&user).await.unwrap();
    let skipped = Todo::select()
        .for_share()
        .skip_locked()
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert!(skipped.is_empty(), "the locked row is skipped");
    holder.rollback().await.unwrap();
    let free = Todo::select()
        .for_share()
        .skip_locked()
        .fetch_all(&mut s)
        .await
        .unwrap();
    assert_eq!(free.len(), 1, "once the lock is gone");
    drop(s);
    // Every strength, run as the owner of the row.
    let locks = [
        Todo::select().for_update(),
        Todo::select().for_no_key_update(),
        Todo::select().for_share(),
        Todo::select().for_key_share().no_wait(),
    ];
    for lock in locks {
        let mut s = app.as_user(&user).await.unwrap();
        assert_eq!(lock.fetch_all(&mut s).await.unwrap().len(), 1);
        s.rollback().await.unwrap();
    }
    let mut s = app.as_user(&user).await.unwrap();
    let counted = Todo::select().for_update().count(&mut s).await.unwrap_err();
    assert!(matches!(counted, QueryError::Usage(_)), "{counted:?}");
}

/// A lock needs the UPDATE privilege: anonymous may read public projects, not lock them.
#[tokio::test]
async fn a_role_that_may_only_read_cannot_lock() {
    let db = TestDatabase::new(&schemas::projects::SCHEMA).await;
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    let mut s = app
        .as_user(&SessionClaims::new("user_carol"))
        .await
        .unwrap();
    Project::insert(NewProject {
        owner_id: None,
        slug: "open".into(),
        name: "open".into(),
        is_public: Some(true),
        archived: None,
        budget: None,
    })
    .execute(&mut s)
    .await
    .unwrap();
    s.commit().await.unwrap();

    let mut s = app.anonymous().await.unwrap();
    assert_eq!(Project::select().count(&mut s).await.unwrap(), 1);
    drop(s);
    let mut s = app.anonymous().await.unwrap();
    let Err(denied) = Project::select().for_share().fetch_all(&mut s).await else {
        panic!("anonymous locked a row");
    };
    assert!(
        matches!(denied, QueryError::PermissionDenied(_)),
        "{denied:?}"
    );
    assert!(
        denied.to_string().contains("needs an UPDATE policy"),
        "the error says what a lock needs: {denied}"
    );
}
