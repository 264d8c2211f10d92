use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{item_strings, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn likes_are_counted_once_and_fifty_people_racing_leave_the_count_right() {
    // Fifty sign-ins from one address: lift the per-address limit for this test.
    let app = spawn_app_with(|c| c.auth.login_address_burst = 1_000).await;
    let author = app.member("popular").await;
    let note = app.post_note(&author, "Hot", "take").await;
    let id = note["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/notes/{id}/like");
    let fan = app.member("fan_zero").await;
    for _ in 0..2 {
        let liked: Value = app
            .send_as(Method::PUT, &fan, &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(liked["count"], 1, "liking twice is one like");
    }
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(app.member(&format!("racer_{i}")).await);
    }
    let mut racers = tokio::task::JoinSet::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (client, url) = (app.api.clone(), app.url(&path));
        racers.spawn(async move {
            // Everyone likes twice and unlikes once; the odd ones like once more at the end.
            for method in [
                reqwest::Method::PUT,
                reqwest::Method::PUT,
                reqwest::Method::DELETE,
            ] {
                let status = client
                    .request(method, &url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, StatusCode::OK);
            }
            if i % 2 == 1 {
                client.put(&url).bearer_auth(&token).send().await.unwrap();
            }
        });
    }
    racers.join_all().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM likes WHERE note_id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    let shown = app.get_json(&format!("/api/v1/notes/{id}")).await["like_count"]
        .as_i64()
        .unwrap();
    assert_eq!(rows, 26);
    assert_eq!(shown, rows, "the count equals the likes that exist");
}

#[tokio::test]
async fn follows_notify_and_show_on_the_profile() {
    let app = spawn_app().await;
    let star = app.member("star").await;
    let fan = app.member("admirer").await;
    let note = app.post_note(&star, "Hello", "hi").await;
    assert_eq!(
        app.send_as(Method::PUT, &fan, "/api/v1/users/star/follow", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send_as(Method::PUT, &fan, "/api/v1/users/star/follow", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let me = app
        .send_as(Method::PUT, &star, "/api/v1/users/star/follow", None)
        .await;
    assert_eq!(problem(me).await["errors"][0]["field"], "handle");
    app.send_as(
        Method::PUT,
        &fan,
        &format!("/api/v1/notes/{}/like", note["id"].as_str().unwrap()),
        None,
    )
    .await;
    app.send_as(
        Method::PUT,
        &fan,
        &format!("/api/v1/notes/{}/collect", note["id"].as_str().unwrap()),
        None,
    )
    .await;

    let stats = app.get_json("/api/v1/users/star/stats").await;
    assert_eq!(
        (
            stats["followers"].as_i64(),
            stats["likes_and_collects"].as_i64(),
            stats["notes"].as_i64()
        ),
        (Some(1), Some(2), Some(1))
    );
    let followers = app.get_json("/api/v1/users/star/followers").await;
    assert_eq!(item_strings(&followers, "handle"), ["admirer"]);

    let unread = app
        .get_json_as(&star, "/api/v1/notifications/unread-count")
        .await;
    assert_eq!(unread["unread"], 3);
    let list = app.get_json_as(&star, "/api/v1/notifications").await;
    let kinds: Vec<&str> = item_strings(&list, "kind");
    assert_eq!(kinds, ["collect", "like", "follow"]);
    app.send_as(Method::POST, &star, "/api/v1/notifications/read", None)
        .await;
    assert_eq!(
        app.get_json_as(&star, "/api/v1/notifications/unread-count")
            .await["unread"],
        0
    );

    app.send_as(Method::DELETE, &fan, "/api/v1/users/star/follow", None)
        .await;
    assert_eq!(
        app.get_json("/api/v1/users/star/stats").await["followers"],
        0
    );
}

#[tokio::test]
async fn likes_from_several_people_are_grouped_into_one_line() {
    let app = spawn_app().await;
    let author = app.member("grouped").await;
    let note = app.post_note(&author, "Group", "me").await;
    let path = format!("/api/v1/notes/{}/like", note["id"].as_str().unwrap());
    for name in ["g_one", "g_two", "g_three", "g_four"] {
        let token = app.member(name).await;
        app.send_as(Method::PUT, &token, &path, None).await;
    }
    let list = app.get_json_as(&author, "/api/v1/notifications").await;
    let line = &list["items"][0];
    assert_eq!(
        (line["kind"].as_str(), line["count"].as_i64()),
        (Some("like"), Some(4))
    );
    assert_eq!(
        item_strings(&json!({"items": line["actors"]}), "handle"),
        ["g_four", "g_three", "g_two"]
    );
}

#[tokio::test]
async fn comments_thread_one_level_and_their_authors_keep_order() {
    let app = spawn_app().await;
    let author = app.member("host").await;
    let guest = app.member("guest").await;
    let other = app.member("other_guest").await;
    let note = app.post_note(&author, "Talk", "to me").await;
    let id = note["id"].as_str().unwrap();
    let comments = format!("/api/v1/notes/{id}/comments");
    let first: Value = app
        .send_as(
            Method::POST,
            &guest,
            &comments,
            Some(json!({"body": "First! <script>x</script> @host"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let reply: Value = app
        .send_as(
            Method::POST,
            &other,
            &comments,
            Some(json!({"body": "reply", "parent_id": first["id"]})),
        )
        .await
        .json()
        .await
        .unwrap();
    let nested: Value = app
        .send_as(
            Method::POST,
            &guest,
            &comments,
            Some(json!({"body": "deeper", "parent_id": reply["id"]})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        nested["parent_id"], first["id"],
        "a reply to a reply joins the same thread"
    );
    let second: Value = app
        .send_as(
            Method::POST,
            &other,
            &comments,
            Some(json!({"body": "second"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let empty = app
        .send_as(Method::POST, &other, &comments, Some(json!({"body": "  "})))
        .await;
    assert_eq!(problem(empty).await["errors"][0]["field"], "body");

    let pin = format!("/api/v1/comments/{}/pin", second["id"].as_str().unwrap());
    assert_eq!(
        app.send_as(Method::PUT, &guest, &pin, None).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send_as(Method::PUT, &author, &pin, None).await.status(),
        StatusCode::NO_CONTENT
    );
    let page = app.get_json(&comments).await;
    assert_eq!(
        item_strings(&page, "body"),
        ["second", "First! <script>x</script> @host"]
    );
    assert_eq!(page["items"][1]["replies"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get_json(&format!("/api/v1/notes/{id}")).await["comment_count"],
        4
    );

    let delete = |token: String, comment: &Value| {
        let path = format!("/api/v1/comments/{}", comment["id"].as_str().unwrap());
        let app = &app;
        async move {
            app.send_as(Method::DELETE, &token, &path, None)
                .await
                .status()
        }
    };
    assert_eq!(
        delete(other.clone(), &first).await,
        StatusCode::FORBIDDEN,
        "not one's own, not one's note"
    );
    assert_eq!(
        delete(author.clone(), &first).await,
        StatusCode::NO_CONTENT,
        "the note's author may"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/notes/{id}")).await["comment_count"],
        1,
        "replies went with it"
    );

    app.send_as(
        Method::DELETE,
        &author,
        &format!("/api/v1/notes/{id}"),
        None,
    )
    .await;
    let late = app
        .send_as(
            Method::POST,
            &guest,
            &comments,
            Some(json!({"body": "hello?"})),
        )
        .await;
    assert_eq!(
        late.status(),
        StatusCode::NOT_FOUND,
        "no comments on a deleted note"
    );
    let notifications = app.get_json_as(&author, "/api/v1/notifications").await;
    assert!(
        notifications["items"].as_array().unwrap().is_empty(),
        "the deleted note's notifications went with it"
    );
}

#[tokio::test]
async fn a_block_hides_both_ways_and_stops_following_and_commenting() {
    let app = spawn_app().await;
    let alice = app.member("alice_b").await;
    let troll = app.member("troll").await;
    let note = app.post_note(&alice, "Mine", "text").await;
    let path = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());
    app.send_as(Method::PUT, &troll, "/api/v1/users/alice_b/follow", None)
        .await;
    assert_eq!(
        app.send_as(Method::PUT, &alice, "/api/v1/users/troll/block", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_json("/api/v1/users/alice_b/stats").await["followers"],
        0,
        "the block ended the follow"
    );
    assert_eq!(
        app.get_as(&troll, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let follow = app
        .send_as(Method::PUT, &troll, "/api/v1/users/alice_b/follow", None)
        .await;
    assert_eq!(follow.status(), StatusCode::FORBIDDEN);
    let comment = app
        .send_as(
            Method::POST,
            &troll,
            &format!("{path}/comments"),
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::NOT_FOUND);
    let listed = app.get_json_as(&troll, "/api/v1/users/alice_b/notes").await;
    assert!(listed["items"].as_array().unwrap().is_empty());

    let report = json!({"target": "user", "target_id": app.get_json("/api/v1/users/troll").await["id"], "reason": "harassment"});
    assert_eq!(
        app.send_as(Method::POST, &alice, "/api/v1/reports", Some(report))
            .await
            .status(),
        StatusCode::CREATED
    );
    let missing = json!({"target": "note", "target_id": "12345", "reason": "spam"});
    assert_eq!(
        app.send_as(Method::POST, &alice, "/api/v1/reports", Some(missing))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn collects_go_to_boards_that_are_private_unless_made_public() {
    let app = spawn_app().await;
    let author = app.member("chef").await;
    let saver = app.member("saver").await;
    let note = app.post_note(&author, "Recipe", "#food").await;
    let id = note["id"].as_str().unwrap();
    let collected: Value = app
        .send_as(
            Method::PUT,
            &saver,
            &format!("/api/v1/notes/{id}/collect"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(collected["count"], 1);
    let board: Value = app
        .send_as(
            Method::POST,
            &saver,
            "/api/v1/me/boards",
            Some(json!({"name": "Dinner ideas", "public": true})),
        )
        .await
        .json()
        .await
        .unwrap();
    let moved: Value = app
        .send_as(
            Method::PUT,
            &saver,
            &format!(
                "/api/v1/notes/{id}/collect?board_id={}",
                board["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        moved["count"], 1,
        "moving between boards is not a second collect"
    );
    let public = app.get_json("/api/v1/users/saver/boards").await;
    assert_eq!(
        public.as_array().unwrap().len(),
        1,
        "the default board is private"
    );
    let own = app.get_json_as(&saver, "/api/v1/users/saver/boards").await;
    assert_eq!(own.as_array().unwrap().len(), 2);
    let in_board = app
        .get_json(&format!(
            "/api/v1/boards/{}/notes",
            board["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(item_strings(&in_board, "id"), [id]);
    let twin = app
        .send_as(
            Method::POST,
            &saver,
            "/api/v1/me/boards",
            Some(json!({"name": "Dinner ideas"})),
        )
        .await;
    assert_eq!(twin.status(), StatusCode::CONFLICT);
}
