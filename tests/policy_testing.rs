//! `pgrls::testing` on the todos example (the example's own test, as a user writes one, is
//! examples/todos/tests/policies.rs): the assertions and the access matrix pass where the
//! policies hold, fail with a readable report where they do not, and leave the fixtures as
//! they found them.

use pgrls::Model;
use pgrls::testing::{Access::*, TestDatabase, Who};
use todos_example::{NewTodo, Todo};

fn todo(user: &str, task: &str) -> NewTodo {
    NewTodo {
        user_id: Some(user.into()),
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

async fn todos() -> TestDatabase {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let rows = [
        todo("alice", "milk"),
        todo("alice", "bread"),
        todo("bob", "stamps"),
    ];
    assert_eq!(db.seed(Todo::insert_many(rows)).await, 3);
    db
}

#[tokio::test]
async fn every_kind_of_expectation() {
    let db = todos().await;
    let bob = db.user("bob");
    bob.sees(Todo::select()).count(1).await;
    bob.sees(Todo::select().filter(Todo::user_id.eq("alice")))
        .nothing()
        .await;
    bob.sees(Todo::select().columns((Todo::id, Todo::task)))
        .count(1)
        .await;
    bob.writes(Todo::insert(todo("bob", "glue")))
        .touches(1)
        .await;
    bob.writes(Todo::update().set(Todo::task, "x"))
        .allowed()
        .await;
    bob.writes(Todo::update().set(Todo::user_id, "alice"))
        .refused()
        .await;
    db.user("carol").sees(Todo::select()).access(Rows(0)).await;
    // Another session role: the todos grant nothing to `anonymous`.
    db.actor(Who::user("bob").as_role("anonymous"))
        .sees(Todo::select())
        .denied()
        .await;
}

#[tokio::test]
async fn assertions_roll_back_what_they_write() {
    let db = todos().await;
    let alice = db.user("alice");
    alice.writes(Todo::delete()).touches(2).await;
    alice
        .writes(Todo::insert(todo("alice", "more")))
        .touches(1)
        .await;
    alice.sees(Todo::select()).count(2).await;
    let stored: i64 = sqlx::query_scalar("select count(*) from todos")
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn the_access_matrix_of_the_todos() {
    let db = todos().await;
    db.matrix([Who::user("alice"), Who::user("bob"), Who::anonymous()])
        .expect("read", Todo::select, [Rows(2), Rows(1), Denied])
        .expect(
            "insert as alice",
            || Todo::insert(todo("alice", "x")),
            [Rows(1), Refused, Denied],
        )
        .expect(
            "complete all",
            || Todo::update().set(Todo::is_complete, true),
            [Rows(2), Rows(1), Denied],
        )
        .expect(
            "delete bob's",
            || Todo::delete().filter(Todo::user_id.eq("bob")),
            [Rows(0), Rows(1), Denied],
        )
        .check()
        .await;
}

/// The panic message of a failing assertion, which runs in a task of its own.
async fn report_of<F>(assertion: impl FnOnce(TestDatabase) -> F) -> String
where
    F: Future<Output = ()> + Send + 'static,
{
    let db = todos().await;
    let payload = tokio::spawn(assertion(db))
        .await
        .expect_err("the assertion should fail")
        .into_panic();
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload.downcast_ref::<&str>().unwrap().to_string(),
    }
}

#[tokio::test]
async fn a_failing_count_says_who_what_and_how_many() {
    let report = report_of(|db| async move {
        db.user("alice").sees(Todo::select()).count(3).await;
    })
    .await;
    insta::assert_snapshot!(report);
}

#[tokio::test]
async fn a_failing_row_list_names_the_rows_that_differ() {
    let report = report_of(|db| async move {
        let alice = db.user("alice");
        alice
            .sees(Todo::select())
            .rows(|t| t.task.clone(), ["milk", "stamps"])
            .await;
    })
    .await;
    insta::assert_snapshot!(report);
}

#[tokio::test]
async fn a_write_expected_refused_that_is_allowed_is_reported() {
    let report = report_of(|db| async move {
        db.user("alice")
            .writes(Todo::insert(todo("alice", "own")))
            .refused()
            .await;
    })
    .await;
    insta::assert_snapshot!(report);
}

#[tokio::test]
async fn a_failing_matrix_prints_the_whole_table() {
    let report = report_of(|db| async move {
        db.matrix([Who::user("alice"), Who::user("bob"), Who::anonymous()])
            .expect("read", Todo::select, [Rows(2), Rows(2), Rows(0)])
            .expect(
                "insert as bob",
                || Todo::insert(todo("bob", "x")),
                [Refused, Rows(1), Denied],
            )
            .check()
            .await;
    })
    .await;
    insta::assert_snapshot!(report);
}
