//! Issue 9 on PostgreSQL: organizations through typed sub-selects and Clerk's organization
//! claims (tests/schemas/teams.rs), the plans they get, and the cycle refused.

mod schemas;

use pgrls::Model;
use pgrls::SessionClaims;
use pgrls::testing::{TestDatabase, Who};
use schemas::teams::{Board, Card, Membership, NewBoard, NewCard, NewMembership, Org, OrgRole};
use serde_json::json;

/// alice: admin of o1, member of o2. bob: member of o1. carol: viewer of o3. One board per
/// organization, one card per board.
async fn teams() -> TestDatabase {
    let db = TestDatabase::new(&schemas::teams::SCHEMA).await;
    for (id, name) in [("o1", "One"), ("o2", "Two"), ("o3", "Three")] {
        db.seed(Org::insert(schemas::teams::NewOrg {
            id: id.into(),
            name: name.into(),
        }))
        .await;
    }
    let members = [
        ("o1", "alice", OrgRole::Admin),
        ("o2", "alice", OrgRole::Member),
        ("o1", "bob", OrgRole::Member),
        ("o3", "carol", OrgRole::Viewer),
    ];
    for (org, user, role) in members {
        db.seed(Membership::insert(NewMembership {
            org_id: org.into(),
            user_id: user.into(),
            role,
        }))
        .await;
    }
    for (i, org) in ["o1", "o2", "o3"].iter().enumerate() {
        db.seed(Board::insert(board(org))).await;
        db.seed(Card::insert(NewCard {
            board_id: i as i64 + 1,
            org_id: org.to_string(),
            text: format!("card of {org}"),
        }))
        .await;
    }
    db
}

fn board(org: &str) -> NewBoard {
    NewBoard {
        org_id: org.into(),
        title: format!("board of {org}"),
    }
}

/// A user with Clerk's session token v2 organization claim.
fn v2(sub: &str, org: &str, role: &str) -> Who {
    let claims = json!({ "sub": sub, "o": { "id": org, "rol": role, "slg": org } });
    Who::claims(SessionClaims::from_value(claims).unwrap()).labeled(format!("{sub}@{org} (v2)"))
}

/// The same with v1's flat claims (`org:`-prefixed role).
fn v1(sub: &str, org: &str, role: &str) -> Who {
    let claims = json!({ "sub": sub, "org_id": org, "org_role": format!("org:{role}") });
    Who::claims(SessionClaims::from_value(claims).unwrap()).labeled(format!("{sub}@{org} (v1)"))
}

#[tokio::test]
async fn members_see_their_organizations_and_nothing_else() {
    let db = teams().await;
    db.user("alice")
        .sees(Org::select())
        .rows(|o| o.id.clone(), ["o1", "o2"])
        .await;
    db.user("carol")
        .sees(Org::select())
        .rows(|o| o.id.clone(), ["o3"])
        .await;
    db.user("nobody").sees(Org::select()).nothing().await;
    // The members of their organizations, through the lookup (a sub-select of this table
    // in its own policy would recurse).
    db.user("alice")
        .sees(Membership::select())
        .rows(
            |m| (m.org_id.clone(), m.user_id.clone()),
            [
                ("o1".to_string(), "alice".to_string()),
                ("o2".into(), "alice".into()),
                ("o1".into(), "bob".into()),
            ],
        )
        .await;
    db.user("bob")
        .sees(Membership::select())
        .rows(|m| m.user_id.clone(), ["alice", "bob"])
        .await;
    db.user("nobody").sees(Membership::select()).nothing().await;
    // Cards through two nested sub-selects: boards of the caller's organizations, which the
    // boards' own policies (the active organization among them) filter too.
    db.actor(v2("alice", "o1", "admin"))
        .sees(Card::select())
        .rows(|c| c.org_id.clone(), ["o1"])
        .await;
    db.actor(v1("alice", "o2", "member"))
        .sees(Card::select())
        .rows(|c| c.org_id.clone(), ["o2"])
        .await;
    db.actor(v2("bob", "o2", "member"))
        .sees(Card::select())
        .nothing()
        .await;
    // "active admins write cards" (FOR ALL) trusts the signed claim alone: a token saying
    // bob is admin of o2 shows o2's cards, membership or not.
    db.actor(v2("bob", "o2", "admin"))
        .sees(Card::select())
        .rows(|c| c.org_id.clone(), ["o2"])
        .await;
}

#[tokio::test]
async fn admins_manage_members_through_the_lookup() {
    let db = teams().await;
    let member = |org: &str, user: &str| NewMembership {
        org_id: org.into(),
        user_id: user.into(),
        role: OrgRole::Viewer,
    };
    db.user("alice")
        .writes(Membership::insert(member("o1", "dave")))
        .touches(1)
        .await;
    // alice is a member of o2, not its admin; bob is nobody's admin.
    db.user("alice")
        .writes(Membership::insert(member("o2", "dave")))
        .refused()
        .await;
    db.user("bob")
        .writes(Membership::insert(member("o1", "dave")))
        .refused()
        .await;
    db.user("alice")
        .writes(Membership::delete().filter(Membership::user_id.eq("bob")))
        .touches(1)
        .await;
    db.user("bob")
        .writes(Membership::delete().filter(Membership::user_id.eq("alice")))
        .touches(0)
        .await;
}

/// The lookup functions: SECURITY DEFINER with a fixed search_path, callable by the
/// session roles only.
#[tokio::test]
async fn lookups_are_callable_by_the_session_roles_only() {
    let db = teams().await;
    let (definer, config): (bool, Vec<String>) = sqlx::query_as(
        "select prosecdef, proconfig from pg_proc where oid = 'public.my_org_ids()'::regprocedure",
    )
    .fetch_one(db.owner())
    .await
    .unwrap();
    assert!(definer);
    assert_eq!(config, ["search_path=\"\""]);
    let can = |role: &'static str| {
        let pool = db.owner().clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "select has_function_privilege($1, 'public.my_org_ids()', 'EXECUTE')",
            )
            .bind(role)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!(can("authenticated").await);
    assert!(can("anonymous").await);
    // Any other role: PUBLIC's EXECUTE was revoked.
    assert!(!can(pgrls::testing::LOGIN_ROLE).await);
}

#[tokio::test]
async fn the_active_organization_and_its_role_decide_the_boards() {
    let db = teams().await;
    // Members read their organizations' boards, in the active organization only.
    db.actor(v2("alice", "o1", "admin"))
        .sees(Board::select())
        .rows(|b| b.org_id.clone(), ["o1"])
        .await;
    db.actor(v1("alice", "o2", "member"))
        .sees(Board::select())
        .rows(|b| b.org_id.clone(), ["o2"])
        .await;
    // A claim naming an organization the user is not a member of gives nothing.
    db.actor(v2("bob", "o2", "admin"))
        .sees(Board::select())
        .nothing()
        .await;
    // No organization claim: the restrictive policy lets nothing through.
    db.user("alice").sees(Board::select()).nothing().await;

    // Admins write; members and other organizations' admins do not.
    db.actor(v2("alice", "o1", "admin"))
        .writes(Board::insert(board("o1")))
        .touches(1)
        .await;
    db.actor(v2("bob", "o1", "member"))
        .writes(Board::insert(board("o1")))
        .refused()
        .await;
    // alice is admin of o1 but o2 is active: the restrictive policy refuses the o1 row.
    db.actor(v1("alice", "o2", "admin"))
        .writes(Board::insert(board("o1")))
        .refused()
        .await;
    db.actor(v1("alice", "o2", "member"))
        .writes(Board::update().set(Board::title, "renamed"))
        .touches(0)
        .await;
}

#[tokio::test]
async fn clerk_roles_read_from_v1_and_v2_alike() {
    let db = teams().await;
    let card = || NewCard {
        board_id: 1,
        org_id: "o1".into(),
        text: "new".into(),
    };
    // "active admins write cards": the org id from v2's `o.id` path, the role normalised.
    db.actor(v2("alice", "o1", "admin"))
        .writes(Card::insert(card()))
        .touches(1)
        .await;
    db.actor(v2("alice", "o1", "member"))
        .writes(Card::insert(card()))
        .refused()
        .await;
    // v1 has no `o` claim: `auth_claim(["o", "id"])` is NULL, so nothing is written.
    db.actor(v1("alice", "o1", "admin"))
        .writes(Card::insert(card()))
        .refused()
        .await;
    db.actor(v2("alice", "o1", "admin"))
        .writes(Card::delete())
        .touches(1)
        .await;
}

/// The sub-select runs once per statement (an InitPlan) and the table is searched by index:
/// no SubPlan evaluated for every row.
#[tokio::test]
async fn sub_selects_are_planned_once_per_statement() {
    let db = teams().await;
    let mut tx = db.owner().begin().await.unwrap();
    for statement in [
        "set local role authenticated",
        "select set_config('request.jwt.claims', '{\"sub\":\"alice\",\"o\":{\"id\":\"o1\"}}', true)",
        "set local enable_seqscan = off",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    let plan: Vec<String> = sqlx::query_scalar("explain select * from boards")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("InitPlan"), "{plan}");
    assert!(!plan.contains("SubPlan"), "{plan}");
    assert!(plan.contains("boards_org_id_idx"), "{plan}");
}

/// The same schema generated by gen-migrations' checks refuses a cycle with the fix.
#[test]
fn a_cycle_is_refused_by_gen_migrations() {
    let dir = std::env::temp_dir().join(format!("rls-cycle-{}", std::process::id()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = pgrls::migrations::run(
        &schemas::teams::cycle::SCHEMA,
        "cycle",
        &dir,
        &[],
        &mut out,
        &mut err,
    );
    let err = String::from_utf8(err).unwrap();
    assert_ne!(code, 0);
    assert!(
        err.contains("public.left -> public.right -> public.left"),
        "{err}"
    );
    assert!(err.contains("#[lookup]"), "{err}");
    assert!(!dir.join("migrations").exists());
}

/// A policy calls a lookup in another schema whose table its role may not read: it works
/// with EXECUTE alone (no USAGE on `app`), and the table stays closed.
#[tokio::test]
async fn a_lookup_in_another_schema() {
    use schemas::teams::elsewhere::{Doc, DocGrant, NewDoc, NewDocGrant, SCHEMA};
    let db = TestDatabase::new(&SCHEMA).await;
    for (id, title) in [(1, "one"), (2, "two"), (3, "three")] {
        db.seed(Doc::insert(NewDoc {
            id,
            title: title.into(),
        }))
        .await;
    }
    for (doc_id, user) in [(1, "alice"), (3, "alice"), (2, "bob")] {
        db.seed(DocGrant::insert(NewDocGrant {
            doc_id,
            user_id: user.into(),
        }))
        .await;
    }
    db.user("alice")
        .sees(Doc::select())
        .rows(|d| d.id, [1, 3])
        .await;
    db.user("bob").sees(Doc::select()).rows(|d| d.id, [2]).await;
    db.user("alice").sees(DocGrant::select()).denied().await;
}
