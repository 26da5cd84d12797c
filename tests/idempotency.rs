//! `Idempotency-Key` on the services' writes (`service_kit::idempotency`): a retry with the
//! same key gets the first answer and writes nothing more, also when the retries race; keys
//! are per user (the table's policies); a key reused for another request is refused.

use orgs_example::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, OrgRole, Organization,
    Project, Task,
};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model};
use serde_json::{Value, json};
use service_kit::LocalService;
use service_kit::client::{Reply, send};
use service_kit::dev_issuer::TokenRequest;
use todos_example::Todo;

async fn todos_service() -> (LocalService, TestDatabase) {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = Database::new(db.login_pool(8).await).await.unwrap();
    let service = LocalService::start(database, todos_example::app::router)
        .await
        .unwrap();
    (service, db)
}

/// One request with a token and an optional `Idempotency-Key`.
async fn request(
    s: &LocalService,
    token: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(key) = key {
        head.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    send(s.addr, head.as_bytes()).await
}

async fn todo_count(db: &TestDatabase) -> i64 {
    let mut owner = db.owner().acquire().await.unwrap();
    Todo::select().count(&mut owner).await.unwrap()
}

#[tokio::test]
async fn a_retried_post_gets_the_first_answer_and_writes_once() {
    let (s, db) = todos_service().await;
    let alice = s.issuer.mint(&TokenRequest::new("user_alice"));
    let body = json!({ "task": "buy milk" });
    let first = request(
        &s,
        &alice,
        "POST",
        "/todos",
        Some("k-1"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = request(
        &s,
        &alice,
        "POST",
        "/todos",
        Some("k-1"),
        Some(body.clone()),
    )
    .await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(todo_count(&db).await, 1);

    // Without a key, a second POST is a second todo.
    let plain = request(&s, &alice, "POST", "/todos", None, Some(body.clone())).await;
    assert_eq!(plain.status, 201);
    assert_ne!(plain.body["id"], first.body["id"]);
    // The same key on another request: refused, nothing written.
    let other = request(
        &s,
        &alice,
        "POST",
        "/todos",
        Some("k-1"),
        Some(json!({ "task": "walk the dog" })),
    )
    .await;
    assert_eq!(
        (other.status, other.body["error"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    // Keys are per user: bob's k-1 is his own, and replays nothing of alice's.
    let bob = s.issuer.mint(&TokenRequest::new("user_bob"));
    let bobs = request(
        &s,
        &bob,
        "POST",
        "/todos",
        Some("k-1"),
        Some(json!({ "task": "walk the dog" })),
    )
    .await;
    assert_eq!(
        (bobs.status, &bobs.body["user_id"]),
        (201, &json!("user_bob"))
    );
    assert_eq!(todo_count(&db).await, 3);
    // A key that is not one: 422 before anything runs.
    for bad in ["", &"x".repeat(256)] {
        let r = request(&s, &alice, "POST", "/todos", Some(bad), Some(body.clone())).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (422, Some("bad_idempotency_key"))
        );
    }
    assert_eq!(todo_count(&db).await, 3);
}

/// A client that retries before its first attempt answered: 8 requests with one key at once
/// make one todo, and all get its answer.
#[tokio::test]
async fn racing_retries_write_once() {
    let (s, db) = todos_service().await;
    let s = std::sync::Arc::new(s);
    let alice = s.issuer.mint(&TokenRequest::new("user_alice"));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (s, alice) = (s.clone(), alice.clone());
        set.spawn(async move {
            request(
                &s,
                &alice,
                "POST",
                "/todos",
                Some("race"),
                Some(json!({ "task": "once" })),
            )
            .await
        });
    }
    let replies = set.join_all().await;
    let ids: std::collections::BTreeSet<String> =
        replies.iter().map(|r| r.body["id"].to_string()).collect();
    assert!(replies.iter().all(|r| r.status == 201), "{replies:?}");
    assert_eq!(ids.len(), 1, "{ids:?}");
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 7);
    assert_eq!(todo_count(&db).await, 1);
}

#[tokio::test]
async fn a_retried_claim_gets_the_same_task_and_a_retried_put_the_same_member() {
    let db = TestDatabase::migrated(
        &sqlx::migrate::Migrator::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orgs/migrations"),
        )
        .await
        .unwrap(),
        &orgs_example::SCHEMA,
    )
    .await;
    db.seed(Organization::insert(NewOrganization {
        id: "acme".into(),
        name: "Acme".into(),
    }))
    .await;
    db.seed(Membership::insert(NewMembership {
        org_id: "acme".into(),
        user_id: "ann".into(),
        role: OrgRole::Admin,
    }))
    .await;
    let mut owner = db.owner().acquire().await.unwrap();
    let project = Project::insert(NewProject {
        org_id: "acme".into(),
        name: "p".into(),
    })
    .returning_one(&mut owner)
    .await
    .unwrap()
    .id;
    Task::insert_many((0..3).map(|t| NewTask {
        project_id: project,
        title: format!("t{t}"),
        done: None,
        assignee: None,
    }))
    .execute(&mut owner)
    .await
    .unwrap();
    let database = Database::new(db.login_pool(4).await).await.unwrap();
    let s = LocalService::start(database, orgs_example::app::router)
        .await
        .unwrap();
    let ann = s.issuer.mint(&TokenRequest::new("ann"));
    let first = request(&s, &ann, "POST", "/tasks/claim", Some("c-1"), None).await;
    let again = request(&s, &ann, "POST", "/tasks/claim", Some("c-1"), None).await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!((again.status, &again.body), (200, &first.body));
    let next = request(&s, &ann, "POST", "/tasks/claim", Some("c-2"), None).await;
    assert_ne!(next.body["id"], first.body["id"]);
    let claimed = Task::select()
        .filter(Task::assignee.is_not_null())
        .count(&mut owner)
        .await
        .unwrap();
    assert_eq!(claimed, 2);

    let put = |key| {
        request(
            &s,
            &ann,
            "PUT",
            "/orgs/acme/members/bob",
            Some(key),
            Some(json!({ "role": "member" })),
        )
    };
    let (a, b) = (put("m-1").await, put("m-1").await);
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    // The same key with another role is another request.
    let other = request(
        &s,
        &ann,
        "PUT",
        "/orgs/acme/members/bob",
        Some("m-1"),
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!(other.status, 422);
}
