//! The todos' policies, tested as a user of `pgrls::testing` tests theirs: the committed
//! migrations on a database of their own, then what each identity may do.

use pgrls::Model;
use pgrls::testing::{Access::*, TestDatabase, Who};
use todos_example::{NewTodo, SCHEMA, Todo};

fn todo(user: &str, task: &str) -> NewTodo {
    NewTodo {
        user_id: Some(user.into()),
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

#[tokio::test]
async fn todos_are_private() {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &SCHEMA).await;
    db.seed(Todo::insert_many([
        todo("alice", "milk"),
        todo("bob", "stamps"),
    ]))
    .await;
    let alice = db.user("alice");
    alice
        .sees(Todo::select())
        .rows(|t| t.task.clone(), ["milk"])
        .await;
    alice
        .writes(Todo::insert(todo("bob", "forged")))
        .refused()
        .await;
    alice
        .writes(Todo::delete().filter(Todo::user_id.eq("bob")))
        .touches(0)
        .await;
    db.anonymous().sees(Todo::select()).denied().await;
}

#[tokio::test]
async fn who_may_do_what() {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &SCHEMA).await;
    db.seed(Todo::insert_many([
        todo("alice", "milk"),
        todo("alice", "bread"),
        todo("bob", "stamps"),
    ]))
    .await;
    db.matrix([
        Who::user("alice"),
        Who::user("bob"),
        Who::user("carol"),
        Who::anonymous(),
    ])
    .expect("read", Todo::select, [Rows(2), Rows(1), Rows(0), Denied])
    .expect(
        "insert own",
        || Todo::insert(todo("alice", "x")),
        [Rows(1), Refused, Refused, Denied],
    )
    .expect(
        "complete all",
        || Todo::update().set(Todo::is_complete, true),
        [Rows(2), Rows(1), Rows(0), Denied],
    )
    .expect(
        "hand to carol",
        || Todo::update().set(Todo::user_id, "carol"),
        [Refused, Refused, Rows(0), Denied],
    )
    .expect(
        "delete all",
        Todo::delete,
        [Rows(2), Rows(1), Rows(0), Denied],
    )
    .check()
    .await;
}
