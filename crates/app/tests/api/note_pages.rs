use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{csrf_of, spawn_app, PASSWORD};
use crate::media::png;

#[tokio::test]
async fn a_member_posts_comments_and_likes_through_the_pages() {
    let app = spawn_app().await;
    app.signup("page_author").await;
    let browser = app.browser();
    let login = app.page(&browser, "/login").await;
    let csrf = csrf_of(&login);
    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "page_author"),
        ("password", PASSWORD),
        ("next", "/notes/new"),
    ];
    app.submit(&browser, "/login", &form).await;

    let composer = app.page(&browser, "/notes/new").await;
    assert!(composer.contains("data-media-picker"));
    let upload = Form::new().part("file", Part::bytes(png(400, 300)).file_name("a.png"));
    let media: Value = browser
        .post(app.url("/api/v1/media"))
        .header("origin", app.address.clone())
        .multipart(upload)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_id = media["id"].as_str().unwrap();
    let long = [
        ("_csrf", csrf.as_str()),
        ("title", &"长".repeat(21)),
        ("body", "x"),
        ("media_ids", media_id),
        ("visibility", "public"),
    ];
    let refused = app.submit(&browser, "/notes/new", &long).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("id=\"title-error\""));

    let body = "Try <b>this</b> #早餐 with @page_author";
    let form = [
        ("_csrf", csrf.as_str()),
        ("title", "Breakfast"),
        ("body", body),
        ("media_ids", media_id),
        ("visibility", "public"),
    ];
    let posted = app.submit(&browser, "/notes/new", &form).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let location = posted.headers()["location"].to_str().unwrap().to_owned();
    let page = app.page(&browser, &location).await;
    assert!(
        page.contains("Try &#60;b&#62;this&#60;/b&#62;"),
        "markup in a body is shown as text"
    );
    assert!(
        page.contains("href=\"/topics/%E6%97%A9%E9%A4%90\""),
        "topics link to their page"
    );
    assert!(page.contains("href=\"/@page_author\" class=\"mention\""));
    assert!(page.contains("property=\"og:title\" content=\"Breakfast\""));

    let id = location.trim_start_matches("/notes/");
    let liked = app
        .submit(
            &browser,
            &format!("/notes/{id}/like"),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(liked.status(), StatusCode::SEE_OTHER);
    let comment = [
        ("_csrf", csrf.as_str()),
        ("body", "first comment"),
        ("parent_id", ""),
    ];
    app.submit(&browser, &format!("/notes/{id}/comments"), &comment)
        .await;
    let note = app.get_json(&format!("/api/v1/notes/{id}")).await;
    assert_eq!(
        (note["like_count"].as_i64(), note["comment_count"].as_i64()),
        (Some(1), Some(1))
    );
    let page = app.page(&browser, &location).await;
    assert!(page.contains("first comment"));

    let topic = app.page(&browser, "/topics/早餐").await;
    assert!(topic.contains(&format!("href=\"/notes/{id}\"")));
    let profile = app.page(&browser, "/@page_author").await;
    assert!(
        profile.contains(&format!("href=\"/notes/{id}\""))
            && profile.contains("id=\"likes-count\">1<")
    );
}

#[tokio::test]
async fn notifications_and_boards_have_pages() {
    let app = spawn_app().await;
    let author = app.member("noticed").await;
    let fan = app.member("noticer").await;
    let note = app.post_note(&author, "Seen", "me").await;
    let id = note["id"].as_str().unwrap();
    app.send_as(Method::PUT, &fan, &format!("/api/v1/notes/{id}/like"), None)
        .await;
    let board: Value = app
        .send_as(
            Method::POST,
            &fan,
            "/api/v1/me/boards",
            Some(json!({"name": "Inspiration", "public": true})),
        )
        .await
        .json()
        .await
        .unwrap();
    let board_id = board["id"].as_str().unwrap();
    app.send_as(
        Method::PUT,
        &fan,
        &format!("/api/v1/notes/{id}/collect?board_id={board_id}"),
        None,
    )
    .await;

    app.caught_up().await;
    let page = app
        .api
        .get(app.url("/notifications"))
        .bearer_auth(&author)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("liked your note") && html.contains("collected your note"));
    assert_eq!(
        app.get_json_as(&author, "/api/v1/notifications/unread-count")
            .await["unread"],
        0,
        "seen is read"
    );

    let board_page = app
        .api
        .get(app.url(&format!("/boards/{board_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board_page.contains(&format!("href=\"/notes/{id}\"")));
    let boards_tab = app
        .api
        .get(app.url("/@noticer?tab=boards"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(boards_tab.contains("Inspiration"));
    let anonymous = app.api.get(app.url("/notifications")).send().await.unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::OK,
        "reqwest follows the redirect to sign in"
    );
    assert!(anonymous.url().path().starts_with("/login"));
}

#[tokio::test]
async fn comment_likes_reports_and_blocks_work_from_the_pages() {
    let app = spawn_app().await;
    let author = app.member("paged_author").await;
    let note = app.post_note(&author, "Pages", "too").await;
    let id = note["id"].as_str().unwrap().to_owned();
    let comment: Value = app
        .send_as(
            Method::POST,
            &author,
            &format!("/api/v1/notes/{id}/comments"),
            Some(json!({"body": "mine"})),
        )
        .await
        .json()
        .await
        .unwrap();
    app.signup("paged_reader").await;
    let browser = app.browser();
    let csrf = csrf_of(&app.page(&browser, "/login").await);
    let form = [
        ("_csrf", csrf.as_str()),
        ("handle", "paged_reader"),
        ("password", PASSWORD),
    ];
    app.submit(&browser, "/login", &form).await;
    let liked = app
        .submit(
            &browser,
            &format!("/comments/{}/like", comment["id"].as_str().unwrap()),
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(liked.status(), StatusCode::SEE_OTHER);
    let comments = app.get_json(&format!("/api/v1/notes/{id}/comments")).await;
    assert_eq!(comments["items"][0]["like_count"], 1);

    let reported = app
        .submit(
            &browser,
            &format!("/notes/{id}/report"),
            &[("_csrf", csrf.as_str()), ("reason", "fake_review")],
        )
        .await;
    assert_eq!(
        reported.headers()["location"],
        format!("/notes/{id}?reported=1")
    );
    let reports: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE reason = 'fake_review'")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(reports, 1);

    app.submit(
        &browser,
        "/users/paged_author/block",
        &[("_csrf", csrf.as_str()), ("next", "/")],
    )
    .await;
    let hidden = browser
        .get(app.url(&format!("/notes/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        hidden.status(),
        StatusCode::NOT_FOUND,
        "a blocked author's notes are hidden from the blocker"
    );
}

#[tokio::test]
async fn a_note_is_shared_by_its_link_and_qr_code_and_each_share_counts() {
    let app = spawn_app().await;
    let author = app.member("sharer").await;
    let reader = app.member("friend").await;
    let note = app.post_note(&author, "Noodles", "#food").await;
    let id = note["id"].as_str().unwrap();
    let (browser, _) = app.signed_in_browser("friend").await;
    let page = app.page(&browser, &format!("/notes/{id}")).await;
    assert!(
        page.contains(&format!(
            "value=\"{}/notes/{id}\"",
            app.state.config.server.public_url.trim_end_matches('/')
        )),
        "the share panel holds the note's link"
    );
    assert!(page.contains(&format!("src=\"/notes/{id}/qr.svg\"")));
    let qr = app
        .api
        .get(app.url(&format!("/notes/{id}/qr.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), StatusCode::OK);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    let svg = qr.text().await.unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    let missing = app
        .api
        .get(app.url("/notes/1/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    app.caught_up().await;
    let shared = json!({"events": [{"note_id": id, "kind": "share"}]});
    let taken: Value = app
        .send_as(Method::POST, &reader, "/api/v1/feed/events", Some(shared))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        taken["accepted"], 1,
        "a share is a card event the feed learns from"
    );
}

#[tokio::test]
async fn collecting_goes_to_the_board_the_reader_chooses_or_names() {
    let app = spawn_app().await;
    let author = app.member("cook").await;
    app.member("saver").await;
    let first = app.post_note(&author, "Soup", "#food").await;
    let second = app.post_note(&author, "Bread", "#food").await;
    let (browser, csrf) = app.signed_in_browser("saver").await;
    let into_new = format!("/notes/{}/collect-to", first["id"].as_str().unwrap());
    let form = [("_csrf", csrf.as_str()), ("new_board", "周末做饭")];
    let made = app.submit(&browser, &into_new, &form).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let boards = app.get_json("/api/v1/users/saver/boards").await;
    assert_eq!(
        boards.as_array().unwrap().len(),
        0,
        "a new board is private"
    );
    let page = app
        .page(
            &browser,
            &format!("/notes/{}", second["id"].as_str().unwrap()),
        )
        .await;
    let board = page
        .split("<option value=\"")
        .skip(1)
        .find(|o| o.contains("周末做饭"))
        .and_then(|o| o.split('"').next())
        .expect("the note page offers the new board")
        .to_owned();
    let into_chosen = format!("/notes/{}/collect-to", second["id"].as_str().unwrap());
    let form = [("_csrf", csrf.as_str()), ("board_id", board.as_str())];
    app.submit(&browser, &into_chosen, &form).await;
    let board_page = app.page(&browser, &format!("/boards/{board}")).await;
    assert!(
        board_page.contains("Soup") && board_page.contains("Bread"),
        "{board_page}"
    );
    let refused = app
        .submit(&browser, &into_chosen, &[("_csrf", csrf.as_str())])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
