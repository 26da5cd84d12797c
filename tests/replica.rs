//! Read-only sessions on a streaming replica (`pgrls::testing::replica`: `pg_basebackup -R` of
//! the test cluster, started on another port): the policies hold there as on the primary, a
//! read after a write waits for its replay (or goes to the primary), and a replica that goes
//! away sends read-only sessions to the primary.

mod support;

use pgrls::testing::TestDatabase;
use pgrls::testing::replica::Replica;
use pgrls::{Database, Model, QueryError, SessionClaims};
use sqlx::Executor;
use std::time::{Duration, Instant};
use todos_example::{NewTodo, Todo};

fn todo(user: &str, task: &str) -> NewTodo {
    NewTodo {
        user_id: Some(user.into()),
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

/// The todos with two users' rows, a replica that has replayed them, and the application's
/// `Database` with it.
async fn setup() -> (TestDatabase, Replica, Database) {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    db.seed(Todo::insert_many([
        todo("user_alice", "milk"),
        todo("user_alice", "eggs"),
        todo("user_bob", "bread"),
    ]))
    .await;
    let replica = Replica::start();
    let pool = support::replica::login_pool(&db, &replica, 4).await;
    replica.catch_up().await;
    let app = Database::new(db.login_pool(4).await)
        .await
        .unwrap()
        .with_replica(pool)
        .await
        .expect("the login-role check passes on the replica");
    (db, replica, app)
}

async fn sees(s: &mut pgrls::Session, task: &str) -> bool {
    tasks(s).await.unwrap().iter().any(|(_, seen)| seen == task)
}

async fn tasks(s: &mut pgrls::Session) -> Result<Vec<(String, String)>, QueryError> {
    Ok(Todo::select()
        .order_by(Todo::task.asc())
        .fetch_all(s)
        .await?
        .into_iter()
        .map(|t| (t.user_id, t.task))
        .collect())
}

#[tokio::test]
async fn policies_hold_on_the_replica_as_on_the_primary() {
    let (db, replica, app) = setup().await;
    for (sub, expected) in [
        ("user_alice", vec!["eggs", "milk"]),
        ("user_bob", vec!["bread"]),
        ("user_carol", vec![]),
    ] {
        let claims = SessionClaims::new(sub);
        let mut on_replica = app.as_user_read_only(&claims).await.unwrap();
        assert!(on_replica.on_replica() && on_replica.is_read_only());
        let mut on_primary = db.app().as_user_read_only(&claims).await.unwrap();
        assert!(!on_primary.on_replica());
        let seen = tasks(&mut on_replica).await.unwrap();
        assert_eq!(seen, tasks(&mut on_primary).await.unwrap(), "{sub}");
        assert!(seen.iter().all(|(user, _)| user == sub), "{sub}: {seen:?}");
        let seen: Vec<&str> = seen.iter().map(|(_, task)| task.as_str()).collect();
        assert_eq!(seen, expected, "{sub}");
        // A write in a read-only session on the replica: the read-only error, not a raw
        // 25006 from the standby.
        let refused = Todo::delete().execute(&mut on_replica).await.unwrap_err();
        assert!(matches!(refused, QueryError::ReadOnly(_)), "{refused:?}");
        assert!(
            refused.to_string().contains("read-only session"),
            "{refused}"
        );
    }
    let mut anonymous = app.anonymous_read_only().await.unwrap();
    assert!(anonymous.on_replica());
    let denied = Todo::select().count(&mut anonymous).await.unwrap_err();
    assert!(
        matches!(denied, QueryError::PermissionDenied(_)),
        "todos has no anonymous policy: {denied:?}"
    );
    // Sessions that may write never land on the replica.
    let mut s = app
        .as_user(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    assert!(!s.on_replica());
    Todo::insert(todo("user_alice", "written"))
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    assert!(!app.anonymous().await.unwrap().on_replica());

    // A standby given as the primary is refused, naming the right call.
    let standby = support::replica::login_pool(&db, &replica, 1).await;
    let refused = Database::new(standby).await.unwrap_err();
    assert!(matches!(refused, QueryError::Setup(_)), "{refused:?}");
    assert!(refused.to_string().contains("with_replica"), "{refused}");
}

#[tokio::test]
async fn a_read_after_a_write_waits_for_its_replay_or_goes_to_the_primary() {
    let (db, replica, app) = setup().await;
    let alice = SessionClaims::new("user_alice");
    let app = app.with_replica_wait(Duration::from_secs(30));
    let write = |task: &'static str| {
        let app = app.clone();
        let alice = alice.clone();
        async move {
            let mut s = app.as_user(&alice).await.unwrap();
            Todo::insert(todo("user_alice", task))
                .execute(&mut s)
                .await
                .unwrap();
            s.commit_lsn().await.unwrap()
        }
    };
    // Replay running: the session after the write is on the replica and sees it.
    let lsn = write("first").await;
    let mut s = app.as_user_read_only_after(&alice, lsn).await.unwrap();
    assert!(s.on_replica());
    assert!(sees(&mut s, "first").await);
    s.finish();

    // Replay paused: a plain read-only session is on the replica and does not see the new
    // write (the lag, made long); one after the write waits, then goes to the primary.
    let mut replica_owner = support::replica::owner(&db, &replica).await;
    replica_owner
        .execute("select pg_wal_replay_pause()")
        .await
        .unwrap();
    let lsn = write("second").await;
    let mut s = app.as_user_read_only(&alice).await.unwrap();
    assert!(s.on_replica());
    assert!(!sees(&mut s, "second").await, "replay is paused");
    s.finish();
    let impatient = app.clone().with_replica_wait(Duration::from_millis(200));
    let mut s = impatient
        .as_user_read_only_after(&alice, lsn)
        .await
        .unwrap();
    assert!(!s.on_replica(), "the replica cannot have replayed it");
    assert!(sees(&mut s, "second").await);
    s.finish();
    let s = impatient.anonymous_read_only_after(lsn).await.unwrap();
    assert!(!s.on_replica());
    s.finish();

    // Replay resumed: the waiting session lands on the replica once it has caught up.
    let waiting = {
        let app = app.clone();
        let alice = alice.clone();
        tokio::spawn(async move { app.as_user_read_only_after(&alice, lsn).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    replica_owner
        .execute("select pg_wal_replay_resume()")
        .await
        .unwrap();
    let mut s = waiting.await.unwrap().unwrap();
    assert!(s.on_replica());
    assert!(sees(&mut s, "second").await);
}

#[tokio::test]
async fn read_only_sessions_fail_over_to_the_primary_when_the_replica_goes_away() {
    let (_db, mut replica, app) = setup().await;
    let alice = SessionClaims::new("user_alice");
    let s = app.as_user_read_only(&alice).await.unwrap();
    assert!(s.on_replica());
    s.finish();

    replica.stop();
    // The first session finds the replica gone (within the replica wait), the next ones do
    // not try it: all on the primary, all seeing alice's rows.
    for _ in 0..3 {
        let mut s = app.as_user_read_only(&alice).await.unwrap();
        assert!(!s.on_replica());
        assert_eq!(tasks(&mut s).await.unwrap().len(), 2);
        s.finish();
    }
    let s = app.anonymous_read_only().await.unwrap();
    assert!(!s.on_replica());
    s.finish();

    // Back once the replica is up again and the 5 seconds have passed.
    replica.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = app.as_user_read_only(&alice).await.unwrap();
        if s.on_replica() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "read-only sessions never went back to the replica"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The todos service's configuration: `DATABASE_URL` through pgbouncer with
/// `DATABASE_TRANSACTION_POOLER=1`, `REPLICA_DATABASE_URL` the replica; `app::connect` gives
/// a `Database` whose read-only sessions (those of `GET /todos`) run on the replica.
#[tokio::test]
async fn the_todos_service_connects_the_pooler_and_the_replica_it_is_configured_with() {
    let (db, replica, _) = setup().await;
    let bouncer = support::pgbouncer::start();
    let login = |port: u16| {
        format!(
            "postgres://{}:{}@127.0.0.1:{port}/{}",
            pgrls::testing::LOGIN_ROLE,
            pgrls::testing::LOGIN_PASSWORD,
            db.name()
        )
    };
    let (primary, standby) = (login(bouncer.port()), login(replica.port()));
    let config = todos_example::app::Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some(primary.clone()),
        "DATABASE_TRANSACTION_POOLER" => Some("1".into()),
        "REPLICA_DATABASE_URL" => Some(standby.clone()),
        "DATABASE_POOL_SIZE" => Some("4".into()),
        "CLERK_FRONTEND_API" => Some("https://clerk.example.com".into()),
        "ALLOWED_ORIGINS" => Some("http://localhost:5173".into()),
        _ => None,
    })
    .unwrap();
    assert!(config.transaction_pooler);
    let app = todos_example::app::connect(&config).await.unwrap();
    let alice = SessionClaims::new("user_alice");
    let mut s = app.as_user_read_only(&alice).await.unwrap();
    assert!(s.on_replica());
    assert_eq!(tasks(&mut s).await.unwrap().len(), 2);
    s.finish();
    // Writes go to the primary through pgbouncer, as unnamed statements.
    for n in 0..8 {
        let mut s = app.as_user(&alice).await.unwrap();
        assert!(!s.on_replica());
        Todo::insert(todo("user_alice", &format!("pooled {n}")))
            .execute(&mut s)
            .await
            .unwrap();
        s.commit().await.unwrap();
    }
}
