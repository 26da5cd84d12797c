//! Guards the PostgreSQL test harness, `pgrls::testing`, itself.

use std::collections::HashSet;
use std::sync::Mutex;

use pgrls::testing::{TestDatabase, admin_url};

/// Names handed out by `TestDatabase::empty` in this process, to check they differ.
static NAMES: Mutex<Option<HashSet<String>>> = Mutex::new(None);

async fn check(db: &TestDatabase) {
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert_eq!(one, 1);

    let user: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert!(!user.is_empty());

    let current: String = sqlx::query_scalar("select current_database()::text")
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert_eq!(current, db.name());
    assert!(
        db.url().contains(db.name()),
        "{} should name {}",
        db.url(),
        db.name()
    );
    assert!(admin_url().contains("/postgres"), "{}", admin_url());

    let fresh = NAMES
        .lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(db.name().to_owned());
    assert!(fresh, "database name {} handed out twice", db.name());
}

#[tokio::test]
async fn first_database() {
    let db = TestDatabase::empty().await;
    check(&db).await;
}

#[tokio::test]
async fn second_database() {
    let db = TestDatabase::empty().await;
    check(&db).await;
}

#[tokio::test]
async fn databases_in_one_test_differ() {
    let a = TestDatabase::empty().await;
    let b = TestDatabase::empty().await;
    assert_ne!(a.name(), b.name());
    check(&a).await;
    check(&b).await;

    // Each database is isolated from the others.
    sqlx::query("create table only_in_a (id int)")
        .execute(a.owner())
        .await
        .unwrap();
    let in_b: bool =
        sqlx::query_scalar("select exists (select from pg_tables where tablename = 'only_in_a')")
            .fetch_one(b.owner())
            .await
            .unwrap();
    assert!(!in_b);
}
