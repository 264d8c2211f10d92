//! What a hostile visitor can send: each test here failed before the defect it names was fixed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{csrf_of, problem, spawn_app, spawn_app_with, PASSWORD};

/// A cursor as this server encodes one (the big-endian bytes of the position, base64url).
fn forged_cursor(position: i64) -> String {
    kernel::Cursor(position).encode()
}

#[tokio::test]
async fn a_forged_cursor_deep_in_a_ranked_list_is_refused_not_allocated() {
    let app = spawn_app().await;
    let reader = app.member("reader").await;
    let deep = forged_cursor(2_000_000_000);
    let negative = forged_cursor(-5);
    let ranked = [
        "/api/v1/search?q=tea",
        "/api/v1/search?q=tea&sort=latest",
        "/api/v1/search?q=tea&type=users",
        "/api/v1/feed/explore",
        "/api/v1/feed/topics/tea",
    ];
    for path in ranked {
        for cursor in [&deep, &negative] {
            let url = app.url(&format!("{path}{}cursor={cursor}", sep(path)));
            let anonymous = app.api.get(&url).send().await.unwrap();
            assert_eq!(
                anonymous.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}"
            );
            assert_eq!(problem(anonymous).await["errors"][0]["field"], "cursor");
            let signed_in = app.api.get(&url).bearer_auth(&reader).send().await;
            assert_eq!(
                signed_in.unwrap().status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}"
            );
        }
    }
    for page in ["/search?q=tea", "/explore"] {
        let url = app.url(&format!("{page}{}cursor={deep}", sep(page)));
        let answer = app.api.get(&url).send().await.unwrap();
        assert!(
            answer.status().is_client_error(),
            "{page}: {}",
            answer.status()
        );
    }
    // The server is still there and answers the first page.
    let first = app.api.get(app.url("/api/v1/search?q=tea")).send().await;
    assert_eq!(first.unwrap().status(), StatusCode::OK);
}

fn sep(path: &str) -> char {
    match path.contains('?') {
        true => '&',
        false => '?',
    }
}

#[tokio::test]
async fn a_stranger_failing_a_members_password_does_not_lock_the_member_out() {
    let app = spawn_app_with(|c| {
        c.server.behind_proxy = true;
        c.auth.login_account_burst = 12;
    })
    .await;
    app.signup("victim").await;
    let attempt = |address: String, password: &'static str| {
        let request = app.api.post(app.url("/api/v1/auth/login"));
        let body = json!({"handle": "victim", "password": password});
        async move {
            let request = request.header("x-forwarded-for", address);
            request.json(&body).send().await.unwrap().status()
        }
    };
    let mut stranger = Vec::new();
    for _ in 0..8 {
        stranger.push(attempt("6.6.6.6".into(), "guess guess guess").await);
    }
    assert_eq!(stranger[0], StatusCode::UNAUTHORIZED);
    assert_eq!(stranger[7], StatusCode::TOO_MANY_REQUESTS, "{stranger:?}");
    assert_eq!(
        attempt("10.1.1.1".into(), PASSWORD).await,
        StatusCode::OK,
        "the member signs in from their own address"
    );
    // Guessing from many addresses still meets the account's own, larger budget.
    let mut spread = Vec::new();
    for i in 0..10 {
        spread.push(attempt(format!("7.7.7.{i}"), "guess guess guess").await);
    }
    assert_eq!(
        spread.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{spread:?}"
    );
}

#[tokio::test]
async fn sign_in_and_the_language_switch_go_only_to_this_site() {
    let app = spawn_app().await;
    app.signup("traveller").await;
    for (next, expected) in [
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example/x", "/"),
        ("/notes/1\u{1}x", "/notes/1%01x"),
        ("/@traveller?tab=boards", "/@traveller?tab=boards"),
    ] {
        let browser = app.browser();
        let csrf = csrf_of(&app.page(&browser, "/login").await);
        let form = [
            ("_csrf", csrf.as_str()),
            ("handle", "traveller"),
            ("password", PASSWORD),
            ("next", next),
        ];
        let answer = app.submit(&browser, "/login", &form).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(answer.headers()["location"], expected, "{next:?}");
        let switched = browser
            .get(app.url("/lang"))
            .query(&[("to", "en"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(switched.status().is_redirection(), "{next:?}");
        assert_eq!(switched.headers()["location"], expected, "{next:?}");
    }
}

#[tokio::test]
async fn a_blocked_member_cannot_reply_to_the_blocker_nor_reach_their_notifications() {
    let app = spawn_app().await;
    let (host, blocker, blocked) = (
        app.member("host").await,
        app.member("blocker").await,
        app.member("blocked").await,
    );
    let note = app.post_note(&host, "Open thread", "say hi").await;
    let comments = format!("/api/v1/notes/{}/comments", note["id"].as_str().unwrap());
    let said = app
        .send_as(
            Method::POST,
            &blocker,
            &comments,
            Some(json!({"body": "hello all"})),
        )
        .await;
    let said: Value = said.json().await.unwrap();
    let blocked_it = app
        .send_as(Method::PUT, &blocker, "/api/v1/users/blocked/block", None)
        .await;
    assert!(blocked_it.status().is_success());
    let unread = || app.get_json_as(&blocker, "/api/v1/notifications/unread-count");
    let before = unread().await["unread"].clone();

    let reply = json!({"body": "you again @blocker", "parent_id": said["id"]});
    let refused = app
        .send_as(Method::POST, &blocked, &comments, Some(reply))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A mention under someone else's comment does not reach the blocker either.
    let mention = json!({"body": "hey @blocker look"});
    let posted = app
        .send_as(Method::POST, &blocked, &comments, Some(mention))
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    assert_eq!(unread().await["unread"], before);
}

#[tokio::test]
async fn another_members_private_note_or_draft_is_not_found_to_every_method() {
    let app = spawn_app().await;
    let (author, stranger) = (app.member("writer").await, app.member("snoop").await);
    for hidden in [json!({"visibility": "private"}), json!({"draft": true})] {
        let mut body = json!({"title": "Hidden", "media_ids": [app.image_id(&author).await]});
        body.as_object_mut()
            .unwrap()
            .extend(hidden.as_object().unwrap().clone());
        let made = app
            .send_as(Method::POST, &author, "/api/v1/notes", Some(body))
            .await;
        let note: Value = made.json().await.unwrap();
        let path = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());
        let edit = json!({"title": "Mine now", "media_ids": []});
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(edit)),
            (Method::DELETE, None),
        ] {
            let answer = app.send_as(method.clone(), &stranger, &path, body).await;
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{method} {hidden}");
        }
        let unknown = format!("/api/v1/notes/{}", 7_000_000_000_000_i64);
        let missing = app.send_as(Method::DELETE, &stranger, &unknown, None).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn staff_edit_a_product_their_organisations_owner_created() {
    let app = spawn_app().await;
    let owner = app.merchant("atelier").await;
    let product = app.product(&owner, "Linen shirt", &[(19900, 3)]).await;
    let colleague = app.member("colleague").await;
    let hired = app
        .send_as(
            Method::PUT,
            &owner.token,
            "/api/v1/orgs/atelier_co/members/colleague",
            Some(json!({"role": "staff"})),
        )
        .await;
    assert!(hired.status().is_success());
    let path = format!("/api/v1/products/{}", product["id"].as_str().unwrap());
    let mut edit = json!({"title": "Linen shirt, washed", "category": "fashion", "state": "on_sale",
        "media_ids": [product["media"][0]["id"]]});
    let edited = app
        .send_as(Method::PATCH, &colleague, &path, Some(edit.clone()))
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    // An outsider's image is still refused, naming the field.
    edit["media_ids"] = json!([app.image_id(&app.member("outsider").await).await]);
    let refused = app
        .send_as(Method::PATCH, &colleague, &path, Some(edit))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(refused).await["errors"][0]["field"], "media_ids");
}

#[tokio::test]
async fn repeated_writes_meet_their_limits_with_retry_after() {
    let app = spawn_app_with(|c| c.limits = app::web::limits::LimitsConfig::default()).await;
    let mut signups = Vec::new();
    for i in 0..8 {
        signups.push(app.signup(&format!("bot{i}")).await.status());
    }
    assert_eq!(&signups[..5], [StatusCode::CREATED; 5]);
    assert_eq!(signups[7], StatusCode::TOO_MANY_REQUESTS, "{signups:?}");
    let spammer: Value = app.login("bot0", PASSWORD).await.json().await.unwrap();
    let victim: Value = app.login("bot1", PASSWORD).await.json().await.unwrap();
    let (spammer, victim) = (
        spammer["token"].as_str().unwrap().to_owned(),
        victim["token"].as_str().unwrap().to_owned(),
    );
    let note = app.post_note(&victim, "Ask me", "anything").await;
    let id = note["id"].as_str().unwrap();
    let comments = format!("/api/v1/notes/{id}/comments");
    let mut refused = None;
    for i in 0..40 {
        let body = json!({ "body": format!("spam {i}") });
        let answer = app
            .send_as(Method::POST, &spammer, &comments, Some(body))
            .await;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((i, answer));
            break;
        }
    }
    let (after, answer) = refused.expect("comments are limited");
    assert_eq!(after, 20, "the burst is 20");
    let retry: u64 = answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(problem(answer).await["type"], "/problems/rate-limited");
    let unread = app
        .get_json_as(&victim, "/api/v1/notifications/unread-count")
        .await;
    assert_eq!(unread["unread"], 20);

    let like = format!("/api/v1/notes/{id}/like");
    let mut toggles = Vec::new();
    for i in 0..70 {
        let method = if i % 2 == 0 {
            Method::PUT
        } else {
            Method::DELETE
        };
        toggles.push(app.send_as(method, &spammer, &like, None).await.status());
    }
    assert_eq!(toggles[69], StatusCode::TOO_MANY_REQUESTS);
    assert!(toggles[..60].iter().all(|s| s.is_success()), "{toggles:?}");
}

#[tokio::test]
async fn one_member_cannot_hold_the_stock_in_unpaid_orders() {
    let app = spawn_app_with(|c| {
        c.limits.unpaid_units = 5;
        c.limits.unpaid_orders = 2;
    })
    .await;
    let merchant = app.merchant("limited").await;
    let hoarder = app.member("hoarder").await;
    let product = app.product(&merchant, "Blind box", &[(5900, 5000)]).await;
    let address = app.address(&hoarder, "上海").await;
    let sku = &product["skus"][0]["id"];
    let buy = |n: i64| json!({"address_id": address, "items": [{"sku_id": sku, "quantity": n}]});
    assert_eq!(
        app.checkout(&hoarder, "a", &buy(3)).await.status(),
        StatusCode::CREATED
    );
    let too_many = app.checkout(&hoarder, "b", &buy(3)).await;
    assert_eq!(too_many.status(), StatusCode::CONFLICT);
    assert_eq!(problem(too_many).await["errors"][0]["field"], "items");
    assert_eq!(
        app.checkout(&hoarder, "c", &buy(2)).await.status(),
        StatusCode::CREATED
    );
    let third_order = app.checkout(&hoarder, "d", &buy(1)).await;
    assert_eq!(third_order.status(), StatusCode::CONFLICT);
    let left = app
        .get_json(&format!(
            "/api/v1/products/{}",
            product["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        left["skus"][0]["stock"], 4995,
        "only what was allowed is held"
    );
}
