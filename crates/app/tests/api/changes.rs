//! The change log: every fact survives the table, notifications are made exactly once through
//! failures, a failing subscriber never fails a request, and two servers on one PostgreSQL
//! learn each other's changes through the log alone.

use std::time::{Duration, Instant};

use app::changes::service::{claim_and_apply, ClusterSubscriber, Follower};
use app::changes::store as log;
use app::changes::types::{Change, Entry, Position};
use app::feed::types::EventKind;
use app::orders::types::OrderStatus;
use app::social::subscriber::Notifications;
use app::state::AppState;
use kernel::Id;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use store::Tx;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// One of every variant; the match makes a new variant fail to compile here until it is added.
fn every_change() -> Vec<Change> {
    let (a, b, c) = (Id::from_i64(11), Id::from_i64(22), Id::from_i64(33));
    let all = vec![
        Change::NotePublished { note: a, author: b },
        Change::NoteEdited { note: a, author: b },
        Change::NoteDeleted { note: a, author: b },
        Change::Liked {
            member: a,
            note: b,
            author: c,
        },
        Change::Unliked {
            member: a,
            note: b,
            author: c,
        },
        Change::Collected {
            member: a,
            note: b,
            author: c,
        },
        Change::Uncollected {
            member: a,
            note: b,
            author: c,
        },
        Change::Commented {
            comment: a,
            note: b,
            commenter: c,
            note_author: a,
            replied_to: Some(b),
        },
        Change::CommentDeleted {
            comment: a,
            note: b,
        },
        Change::Followed {
            follower: a,
            followee: b,
        },
        Change::Unfollowed {
            follower: a,
            followee: b,
        },
        Change::Blocked {
            blocker: a,
            blocked: b,
        },
        Change::Unblocked {
            blocker: a,
            blocked: b,
        },
        Change::Muted { muter: a, muted: b },
        Change::Unmuted { muter: a, muted: b },
        Change::MemberJoined { member: a },
        Change::ProfileChanged { member: a },
        Change::AccountDeleted {
            member: a,
            touched: vec![b, c],
        },
        Change::CardEvents {
            reader: a,
            at_ms: 1_700_000_000_000,
            events: vec![(b, EventKind::Impression), (c, EventKind::FewerFromAuthor)],
        },
        Change::PersonalisationSet {
            reader: a,
            personalised: false,
        },
        Change::InterestForgotten {
            reader: a,
            topic: 7,
            at_ms: 5,
        },
        Change::OrderMoved {
            order: a,
            status: OrderStatus::Refunded,
        },
        Change::PaymentSucceeded {
            payment: a,
            order: b,
        },
        Change::PaymentFailed {
            payment: a,
            order: b,
        },
        Change::PaymentRefunded {
            payment: a,
            order: b,
        },
        Change::Reviewed {
            review: a,
            order: b,
            product: c,
        },
        Change::AfterSaleAsked {
            request: a,
            order: b,
        },
        Change::AfterSaleAnswered {
            request: a,
            order: b,
            approved: true,
        },
        Change::ProductChanged {
            product: a,
            store: b,
        },
        Change::StoreChanged { store: a },
    ];
    for change in &all {
        match change {
            Change::NotePublished { .. }
            | Change::NoteEdited { .. }
            | Change::NoteDeleted { .. }
            | Change::Liked { .. }
            | Change::Unliked { .. }
            | Change::Collected { .. }
            | Change::Uncollected { .. }
            | Change::Commented { .. }
            | Change::CommentDeleted { .. }
            | Change::Followed { .. }
            | Change::Unfollowed { .. }
            | Change::Blocked { .. }
            | Change::Unblocked { .. }
            | Change::Muted { .. }
            | Change::Unmuted { .. }
            | Change::MemberJoined { .. }
            | Change::ProfileChanged { .. }
            | Change::AccountDeleted { .. }
            | Change::CardEvents { .. }
            | Change::PersonalisationSet { .. }
            | Change::InterestForgotten { .. }
            | Change::OrderMoved { .. }
            | Change::PaymentSucceeded { .. }
            | Change::PaymentFailed { .. }
            | Change::PaymentRefunded { .. }
            | Change::Reviewed { .. }
            | Change::AfterSaleAsked { .. }
            | Change::AfterSaleAnswered { .. }
            | Change::ProductChanged { .. }
            | Change::StoreChanged { .. } => {}
        }
    }
    all
}

#[tokio::test]
async fn every_change_survives_the_round_trip_through_the_log() {
    let app = spawn_app_with(|c| c.server.cluster_work = false).await;
    app.caught_up().await;
    let state = &app.state;
    let start = log::last_recorded(&state.db).await.unwrap();
    let written = every_change();
    let mut tx = state.db.begin_write().await.unwrap();
    for change in &written {
        state.changes.record(&mut tx, change.clone()).await.unwrap();
    }
    state.changes.commit(tx).await.unwrap();
    // On PostgreSQL entries are read once final: when every older transaction (other tests'
    // among them) has ended.
    let mut read: Vec<Change> = Vec::new();
    for _ in 0..1_000 {
        read = log::read_after(&state.db, start, 1_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.change)
            .collect();
        if read.len() >= written.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(read, written, "in the order recorded");
}

#[tokio::test]
async fn an_entry_that_no_longer_decodes_stops_its_readers_loudly() {
    let app = spawn_app_with(|c| c.server.cluster_work = false).await;
    app.caught_up().await;
    let db = &app.state.db;
    let start = log::last_recorded(db).await.unwrap();
    store::query("INSERT INTO changes (seq, tx, at_ms, payload) VALUES ($1, $2, 1, $3)")
        .bind(start.seq + 1)
        .bind(start.tx)
        .bind(r#"{"kind":"no_such_fact"}"#)
        .execute(db.pool())
        .await
        .unwrap();
    // On PostgreSQL the entry is read once final, as in the round trip above.
    for _ in 0..1_000 {
        match log::read_after(db, start, 10).await {
            Ok(entries) if entries.is_empty() => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok(entries) => panic!("read as something: {entries:?}"),
            Err(error) => {
                assert!(error.to_string().contains("cannot be read"), "{error}");
                return;
            }
        }
    }
    panic!("the entry never became final");
}

async fn notifications_of(app: &TestApp, token: &str) -> Vec<(String, i64)> {
    let list = app
        .get_as(token, "/api/v1/notifications?limit=50")
        .await
        .json::<Value>()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap().to_owned(),
                g["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn count_notifications(state: &AppState) -> i64 {
    store::query_scalar("SELECT COUNT(*) FROM notifications")
        .fetch_one(state.db.pool())
        .await
        .unwrap()
}

/// The notifications subscriber, failing (as a crash would) after applying `survive` entries of
/// its batch: its transaction is never committed.
struct FailsMidBatch {
    survive: usize,
}

impl ClusterSubscriber for FailsMidBatch {
    const NAME: &'static str = Notifications::NAME;

    fn wants(&self, change: &Change) -> bool {
        Notifications.wants(change)
    }

    async fn apply(&self, state: &AppState, tx: &mut Tx, entries: &[Entry]) -> anyhow::Result<()> {
        let survived = &entries[..self.survive.min(entries.len())];
        Notifications.apply(state, tx, survived).await?;
        anyhow::bail!("the node died mid-batch")
    }
}

/// The fans follow the author, then like the note: a notification each time.
async fn fans_follow_and_like(app: &TestApp, author: &str, fans: &[&str]) -> String {
    let token = app.member(author).await;
    let note = app
        .post_note(&token, "Osmanthus cake", "#dessert from Guilin")
        .await;
    let like = format!("/api/v1/notes/{}/like", note["id"].as_str().unwrap());
    let follow = format!("/api/v1/users/{author}/follow");
    let mut tokens = Vec::new();
    for fan in fans {
        let fan = app.member(fan).await;
        let followed = app.send_as(Method::PUT, &fan, &follow, None).await;
        assert_eq!(followed.status(), StatusCode::NO_CONTENT);
        tokens.push(fan);
    }
    for fan in &tokens {
        let liked = app.send_as(Method::PUT, fan, &like, None).await;
        assert_eq!(liked.status(), StatusCode::OK);
    }
    token
}

#[tokio::test]
async fn a_notification_is_made_once_when_its_subscriber_dies_mid_batch_and_starts_again() {
    // This node runs no cluster work of its own: the test plays the nodes that apply it.
    let app = spawn_app_with(|c| c.server.cluster_work = false).await;
    let author = fans_follow_and_like(&app, "baker", &["fan_a", "fan_b", "fan_c", "fan_d"]).await;
    let state = &app.state;
    assert_eq!(
        count_notifications(state).await,
        0,
        "nothing yet: the requests did not wait"
    );

    for survive in [0, 3, 5] {
        let dying = FailsMidBatch { survive };
        let mut follower = Follower::new(state, "notifications".into(), Position::START);
        let died = claim_and_apply(state, &dying, &mut follower).await;
        assert!(died.is_err(), "the batch failed after {survive} entries");
        assert_eq!(
            count_notifications(state).await,
            0,
            "a failed batch leaves nothing"
        );
    }
    let mut follower = Follower::new(state, "notifications".into(), Position::START);
    while claim_and_apply(state, &Notifications, &mut follower)
        .await
        .unwrap()
        == app::changes::service::Claimed::Full
    {}
    assert_eq!(count_notifications(state).await, 8);
    // Applying again finds nothing new: nothing is doubled.
    claim_and_apply(state, &Notifications, &mut follower)
        .await
        .unwrap();
    assert_eq!(count_notifications(state).await, 8);
    assert_eq!(
        notifications_of(&app, &author).await,
        [("like".to_owned(), 4), ("follow".to_owned(), 4)]
    );
}

#[tokio::test]
async fn a_failing_subscriber_does_not_fail_the_request_and_catches_up_after() {
    let app = spawn_app().await;
    let state = &app.state;
    let away = "ALTER TABLE notifications RENAME TO notifications_away";
    store::query(away).execute(state.db.pool()).await.unwrap();
    let author = fans_follow_and_like(&app, "potter", &["fan_e", "fan_f"]).await;
    // The subscriber fails on every try meanwhile; the likes and follows stood.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let back = "ALTER TABLE notifications_away RENAME TO notifications";
    store::query(back).execute(state.db.pool()).await.unwrap();
    app.caught_up().await;
    assert_eq!(count_notifications(state).await, 4);
    assert_eq!(
        notifications_of(&app, &author).await,
        [("like".to_owned(), 2), ("follow".to_owned(), 2)]
    );
}

/// Polls `path` on `app` as `token` until `done` holds; returns how long it took.
async fn until(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let body: Value = app.get_as(token, path).await.json().await.unwrap();
        if done(&body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} on the other server never showed it: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_servers_on_one_postgresql_learn_each_others_changes_through_the_log() {
    let Ok(_) = std::env::var("HONGSHU_TEST_DATABASE_URL") else {
        // Several nodes need PostgreSQL; scripts/test runs this suite on it as well.
        return;
    };
    let one = spawn_app_with(|c| c.server.node_id = 1).await;
    let url = one.state.config.storage.database_url.clone();
    let two = spawn_app_with(move |c| {
        c.server.node_id = 2;
        c.storage.database_url = url;
    })
    .await;
    let author = one.member("lakeside").await;
    let reader = two.member("wanderer").await;
    let followed = two
        .send_as(Method::PUT, &reader, "/api/v1/users/lakeside/follow", None)
        .await;
    assert_eq!(followed.status(), StatusCode::NO_CONTENT);

    let note = one
        .post_note(&author, "Cormorant fishing", "#guilin at dawn")
        .await;
    let id = note["id"].as_str().unwrap().to_owned();
    let has = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["note"]["id"].as_str() == Some(id.as_str()))
    };
    let search = until(&two, &reader, "/api/v1/search?q=cormorant", |p| {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["note"]["id"].as_str() == Some(id.as_str()))
    })
    .await;
    let following = until(&two, &reader, "/api/v1/feed/following", has).await;
    let explore = until(&two, &reader, "/api/v1/feed/explore", has).await;
    eprintln!(
        "on the other server: search {search:?}, following {following:?}, explore {explore:?}"
    );

    // The second server's note cache holds the note as its Following feed showed it: unliked.
    let cached = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["note"]["id"].as_str() == Some(id.as_str()))
            .map(|i| i["note"]["like_count"].clone())
    };
    let page: Value = two
        .get_as(&reader, "/api/v1/feed/following")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cached(&page), Some(json!(0)));

    // A like on the first server moves the second's feed (the liker's interests there) and
    // empties the second's cached copy of the note.
    let like = format!("/api/v1/notes/{id}/like");
    assert_eq!(
        one.send_as(Method::PUT, &reader, &like, None)
            .await
            .status(),
        StatusCode::OK
    );
    let interests = until(&two, &reader, "/api/v1/me/interests", |list| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i["topic"] == json!("guilin"))
    })
    .await;
    let recounted = until(&two, &reader, "/api/v1/feed/following", |page| {
        cached(page) == Some(json!(1))
    })
    .await;
    eprintln!(
        "the like moved the other server's feed after {interests:?}, its note cache after {recounted:?}"
    );

    // Both servers take turns at notifications, and the author is told once of each.
    one.caught_up().await;
    assert_eq!(
        notifications_of(&one, &author).await,
        [("like".to_owned(), 1), ("follow".to_owned(), 1)]
    );
}
