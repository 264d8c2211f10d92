use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn note_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["note"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn explore_and_following_show_public_notes_with_reasons_and_respect_blocks_and_deletes() {
    let app = spawn_app().await;
    let author = app.member("feed_author").await;
    let other = app.member("other_author").await;
    let reader = app.member("feed_reader").await;
    let first = app
        .post_note(&author, "Dali sunrise", "#travel by the lake")
        .await;
    let second = app
        .post_note(&author, "Erhai cycling", "#travel again")
        .await;
    let blocked = app.post_note(&other, "Hotpot night", "#food").await;
    app.send_as(
        Method::PUT,
        &reader,
        "/api/v1/users/feed_author/follow",
        None,
    )
    .await;

    let following = app.get_json_as(&reader, "/api/v1/feed/following").await;
    let newest_first = [
        second["id"].as_str().unwrap(),
        first["id"].as_str().unwrap(),
    ];
    assert_eq!(note_ids(&following), newest_first);
    assert_eq!(following["items"][0]["reason"]["kind"], "following");

    let explore = app.get_json_as(&reader, "/api/v1/feed/explore").await;
    let ids = note_ids(&explore);
    assert_eq!(ids.len(), 3, "{explore}");
    assert!(explore["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| !c["reason"]["text"].as_str().unwrap().is_empty()));
    assert!(
        note_ids(&app.get_json_as(&reader, "/api/v1/feed/explore").await).is_empty(),
        "seen notes are not shown again"
    );

    // A stranger sees the popular-and-fresh feed; a block and a deletion take effect at once.
    let stranger = app.member("stranger").await;
    app.send_as(
        Method::PUT,
        &stranger,
        "/api/v1/users/other_author/block",
        None,
    )
    .await;
    let id = first["id"].as_str().unwrap();
    app.send_as(
        Method::DELETE,
        &author,
        &format!("/api/v1/notes/{id}"),
        None,
    )
    .await;
    let seen_by_stranger = note_ids(&app.get_json_as(&stranger, "/api/v1/feed/explore").await);
    assert_eq!(seen_by_stranger, [second["id"].as_str().unwrap()]);
    assert!(!seen_by_stranger.contains(&blocked["id"].as_str().unwrap().to_owned()));
    let anonymous = app.get_json("/api/v1/feed/explore").await;
    assert_eq!(note_ids(&anonymous).len(), 2, "{anonymous}");
}

#[tokio::test]
async fn events_settings_interests_and_stats() {
    let app = spawn_app().await;
    let author = app.member("creator").await;
    let reader = app.member("reader_one").await;
    let note = app
        .post_note(&author, "Matcha latte", "#coffee in the morning")
        .await;
    let id = note["id"].as_str().unwrap();
    app.send_as(
        Method::PUT,
        &reader,
        &format!("/api/v1/notes/{id}/like"),
        None,
    )
    .await;
    let interests = app.get_json_as(&reader, "/api/v1/me/interests").await;
    assert_eq!(interests[0]["topic"], "coffee", "{interests}");
    let forgot = app
        .send_as(Method::DELETE, &reader, "/api/v1/me/interests/coffee", None)
        .await;
    assert_eq!(forgot.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json_as(&reader, "/api/v1/me/interests").await,
        json!([])
    );

    let batch = json!({"events": [
        {"note_id": id, "kind": "impression"},
        {"note_id": "1", "kind": "read"},
    ]});
    let taken: Value = app
        .send_as(Method::POST, &reader, "/api/v1/feed/events", Some(batch))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(taken, json!({"accepted": 1, "ignored": 1}));
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({"note_id": id, "kind": "impression"}))
        .collect();
    let refused = app
        .send_as(
            Method::POST,
            &reader,
            "/api/v1/feed/events",
            Some(json!({"events": too_many})),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong_kind = app
        .send_as(
            Method::POST,
            &reader,
            "/api/v1/feed/events",
            Some(json!({"events": [{"note_id": id, "kind": "glance"}]})),
        )
        .await;
    assert_eq!(wrong_kind.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let off = app
        .send_as(
            Method::PUT,
            &reader,
            "/api/v1/me/feed-settings",
            Some(json!({"personalised": false})),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(
        app.get_json_as(&reader, "/api/v1/me/feed-settings").await,
        json!({"personalised": false})
    );

    let member_stats = app.get_as(&reader, "/api/v1/admin/feed/stats").await;
    assert_eq!(member_stats.status(), StatusCode::FORBIDDEN);
    let admin = app.admin("feed_admin").await;
    let stats = app.get_json_as(&admin, "/api/v1/admin/feed/stats").await;
    assert_eq!(stats["impressions"], 1);
    assert_eq!(stats["small_creator_share"], 1.0);

    // Rebuilt from the database, as at a restart: the reported impression counts again, the
    // like is remembered, and the deleted interest tag stays deleted.
    app::feed::service::load(&app.state).await.unwrap();
    let stats = app.get_json_as(&admin, "/api/v1/admin/feed/stats").await;
    assert_eq!(stats["impressions"], 1, "{stats}");
    assert_eq!(
        app.get_json_as(&reader, "/api/v1/me/interests").await,
        json!([])
    );
    let later = app
        .post_note(&author, "Hojicha", "#coffee after lunch")
        .await;
    let later = later["id"].as_str().unwrap();
    app.send_as(
        Method::PUT,
        &reader,
        &format!("/api/v1/notes/{later}/like"),
        None,
    )
    .await;
    let interests = app.get_json_as(&reader, "/api/v1/me/interests").await;
    assert_eq!(
        interests[0]["topic"], "coffee",
        "a new like grows it again: {interests}"
    );
}

#[tokio::test]
async fn what_a_reader_saw_before_a_restart_is_not_shown_again_after_it() {
    let app = spawn_app().await;
    let author = app.member("restart_author").await;
    let reader = app.member("restart_reader").await;
    for title in ["Lijiang old town", "Tiger Leaping Gorge", "Shaxi market"] {
        app.post_note(&author, title, "#travel in Yunnan").await;
    }
    let explore = app.get_json_as(&reader, "/api/v1/feed/explore").await;
    let shown = note_ids(&explore);
    assert_eq!(shown.len(), 3, "{explore}");
    // The reader's browser reports two of the cards as seen before the server restarts.
    let events: Vec<Value> = shown[..2]
        .iter()
        .map(|id| json!({"note_id": id, "kind": "impression"}))
        .collect();
    let reported = app
        .send_as(
            Method::POST,
            &reader,
            "/api/v1/feed/events",
            Some(json!({ "events": events })),
        )
        .await;
    assert_eq!(reported.status(), StatusCode::OK);
    app::feed::service::load(&app.state).await.unwrap();
    let after = app.get_json_as(&reader, "/api/v1/feed/explore").await;
    assert_eq!(note_ids(&after), [shown[2].clone()], "{after}");
}

#[tokio::test]
async fn the_home_page_is_explore_and_following_needs_signing_in() {
    let app = spawn_app().await;
    let author = app.member("page_author").await;
    app.post_note(&author, "Peony season", "#flowers in Luoyang")
        .await;
    let browser = app.browser();
    for path in ["/", "/explore"] {
        let html = app.page(&browser, path).await;
        assert!(
            html.contains("Peony season") && html.contains("card-reason"),
            "{path}"
        );
    }
    let response = browser.get(app.url("/following")).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());

    // Topic channels: a tab on Explore, a page of their own and the API, signed in or not.
    let html = app.page(&browser, "/explore").await;
    assert!(html.contains(r#"<a href="/explore/flowers">#flowers</a>"#));
    let html = app.page(&browser, "/explore/flowers").await;
    assert!(
        html.contains(
            r#"<a href="/explore/flowers" class="current" aria-current="page">#flowers</a>"#
        ) && html.contains("Peony season"),
        "{html}"
    );
    let channel: Value = app
        .api
        .get(app.url("/api/v1/feed/topics/flowers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(channel["items"][0]["note"]["title"], "Peony season");
    assert_eq!(channel["items"][0]["reason"]["kind"], "popular_in_topic");
    let unknown = app
        .api
        .get(app.url("/api/v1/feed/topics/no-such-topic"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// Asks `path` signed out until the first card satisfies `done`, for at most five seconds (the
/// note cache forgets a changed note when the change log is applied); returns that card.
async fn first_card_until(
    app: &crate::helpers::TestApp,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut card = Value::Null;
    for _ in 0..50 {
        card = app.get_json(path).await["items"][0]["note"].clone();
        if done(&card) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    card
}

#[tokio::test]
async fn cached_cards_follow_edits_counts_and_names_and_blocks_apply_at_once() {
    let app = spawn_app().await;
    let author = app.member("cached_author").await;
    let reader = app.member("cached_reader").await;
    let note = app.post_note(&author, "Noodle map", "#food in Xi'an").await;
    let id = note["id"].as_str().unwrap();
    let channel = "/api/v1/feed/topics/food";
    assert_eq!(
        app.get_json(channel).await["items"][0]["note"]["title"],
        "Noodle map"
    );

    let media = note["media"][0]["id"].clone();
    let edit = json!({"title": "Noodle atlas", "body": "#food in Xi'an", "media_ids": [media]});
    let edited = app
        .send_as(
            Method::PATCH,
            &author,
            &format!("/api/v1/notes/{id}"),
            Some(edit),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let card = first_card_until(&app, channel, |c| c["title"] == "Noodle atlas").await;
    assert_eq!(
        card["title"], "Noodle atlas",
        "an edit reaches cached cards"
    );

    app.send_as(
        Method::PUT,
        &reader,
        &format!("/api/v1/notes/{id}/like"),
        None,
    )
    .await;
    let mine = app
        .get_json_as(&reader, &format!("{channel}?limit=5"))
        .await;
    assert_eq!(
        mine["items"][0]["note"]["liked"], true,
        "the reader's own mark at once"
    );
    let card = first_card_until(&app, channel, |c| c["like_count"] == 1).await;
    assert_eq!(card["like_count"], 1);
    assert_eq!(
        card["liked"], false,
        "one reader's mark is not cached for others"
    );

    app.send_as(
        Method::POST,
        &reader,
        &format!("/api/v1/notes/{id}/comments"),
        Some(json!({"body": "Which street?"})),
    )
    .await;
    let card = first_card_until(&app, channel, |c| c["comment_count"] == 1).await;
    assert_eq!(card["comment_count"], 1);

    let rename = json!({"display_name": "Noodle Queen"});
    app.send_as(Method::PATCH, &author, "/api/v1/me", Some(rename))
        .await;
    let card = first_card_until(&app, channel, |c| {
        c["author"]["display_name"] == "Noodle Queen"
    })
    .await;
    assert_eq!(card["author"]["display_name"], "Noodle Queen");

    let found = app
        .search_until(Some(&reader), "q=noodle", |a| a["items"] != json!([]))
        .await;
    assert_ne!(found["items"], json!([]), "{found}");
    app.send_as(
        Method::PUT,
        &author,
        "/api/v1/users/cached_reader/block",
        None,
    )
    .await;
    let blocked = app.get_json_as(&reader, "/api/v1/search?q=noodle").await;
    assert_eq!(blocked["items"], json!([]), "{blocked}");
    app.send_as(
        Method::DELETE,
        &author,
        &format!("/api/v1/notes/{id}"),
        None,
    )
    .await;
    assert_eq!(app.get_json(channel).await["items"], json!([]));
}

#[tokio::test]
async fn a_topic_named_in_both_languages_is_one_channel_named_in_the_readers() {
    let app = spawn_app().await;
    let author = app.member("stylist").await;
    app.post_note(&author, "Linen week", "#fashion").await;
    app.post_note(&author, "通勤穿搭", "#穿搭").await;
    let chinese = app.browser();
    let zh = |path: &'static str| {
        let (app, chinese) = (&app, &chinese);
        async move {
            app.caught_up().await;
            let response = chinese
                .get(app.url(path))
                .header("accept-language", "zh-CN")
                .send()
                .await
                .unwrap();
            response.text().await.unwrap()
        }
    };
    let explore = zh("/").await;
    assert!(
        explore.contains(r#"<a href="/explore/穿搭">#穿搭</a>"#),
        "{explore}"
    );
    assert!(!explore.contains("#fashion</a>"), "one tab for the channel");
    let english = app.page(&app.browser(), "/").await;
    assert!(english.contains(r#"<a href="/explore/fashion">#fashion</a>"#));
    assert!(!english.contains("#穿搭</a>"));
    let channel = zh("/explore/fashion").await;
    assert!(
        channel.contains("Linen week") && channel.contains("通勤穿搭"),
        "both names' notes"
    );
    assert!(channel.contains(r#"class="current" aria-current="page">#穿搭</a>"#));
}
