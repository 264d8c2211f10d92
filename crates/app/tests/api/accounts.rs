use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{item_strings, problem, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn signup_creates_a_member_with_a_string_id() {
    let app = spawn_app().await;
    let response = app.signup("Alice_1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["handle"], "alice_1");
    assert_eq!(user["role"], "member");
    assert!(user["id"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert!(user.get("password_hash").is_none());
}

#[tokio::test]
async fn a_handle_taken_in_another_case_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.signup("alice").await.status(), StatusCode::CREATED);
    let response = app.signup("ALICE").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = problem(response).await;
    assert_eq!(body["errors"][0]["field"], "handle");
}

#[tokio::test]
async fn simultaneous_signups_for_one_handle_create_one_account() {
    let app = spawn_app().await;
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (client, url) = (app.api.clone(), app.url("/api/v1/auth/signup"));
        let handle = if i % 2 == 0 { "bob" } else { "BOB" };
        let body = json!({"handle": handle, "display_name": "Bob", "password": PASSWORD});
        attempts.spawn(async move { client.post(url).json(&body).send().await.unwrap().status() });
    }
    let statuses = attempts.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
}

#[tokio::test]
async fn weak_empty_and_malformed_fields_are_each_named() {
    let app = spawn_app().await;
    let body = json!({"handle": "ab", "display_name": "  ", "password": ""});
    let response = app.post_json("/api/v1/auth/signup", &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors = problem(response).await["errors"].clone();
    let fields: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["handle", "display_name", "password"]);

    let weak = json!({"handle": "carol", "display_name": "Carol", "password": "12345678"});
    let response = app.post_json("/api/v1/auth/signup", &weak).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(response).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["detail"], "is too easy to guess");

    let reserved = app.signup("admin").await;
    assert_eq!(
        problem(reserved).await["errors"][0]["detail"],
        "is reserved"
    );
}

#[tokio::test]
async fn signing_in_gives_a_token_and_a_cookie_that_both_work() {
    let app = spawn_app().await;
    app.signup("dora").await;
    let response = app.login("DORA", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("hs_session=hs_"));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get Secure cookies"
    );
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["user"]["handle"], "dora");

    let me: Value = app.get_json_as(token, "/api/v1/me").await;
    assert_eq!(me["handle"], "dora");
    let session = cookie.split(';').next().unwrap();
    let by_cookie = app
        .api
        .get(app.url("/api/v1/me"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let app = spawn_app_with(|c| c.server.public_url = "https://hongshu.example".into()).await;
    app.signup("erin").await;
    let response = app.login("erin", PASSWORD).await;
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn unknown_handles_and_wrong_passwords_fail_alike() {
    let app = spawn_app().await;
    app.signup("frank").await;
    let wrong = app.login("frank", "not the password").await;
    let unknown = app.login("nobody_here", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(wrong).await, problem(unknown).await);
    let empty = app.login("frank", "").await;
    assert_eq!(problem(empty).await["errors"][0]["field"], "password");
}

#[tokio::test]
async fn a_run_of_wrong_passwords_is_slowed_down() {
    let app = spawn_app().await;
    app.signup("gina").await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.login("gina", "guess guess guess").await);
    }
    let last = statuses.pop().unwrap();
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = last.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    // Even the right password waits until the account's bucket refills.
    assert_eq!(
        app.login("gina", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn one_address_cannot_spray_many_accounts() {
    let app = spawn_app_with(|c| c.auth.login_address_burst = 4).await;
    let mut last = StatusCode::OK;
    for i in 0..5 {
        last = app
            .login(&format!("someone{i}"), "guess guess guess")
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forged_expired_and_ended_sessions_are_signed_out() {
    let app = spawn_app().await;
    let token = app.member("hana").await;
    for forged in ["hs_forged", "garbage", &format!("{token}x")] {
        let response = app.get_as(forged, "/api/v1/me").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{forged}");
    }
    let response = app
        .send_as(Method::POST, &token, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as(&token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let expiring = spawn_app_with(|c| c.auth.session_days = 0).await;
    let token = expiring.member("ivan").await;
    assert_eq!(
        expiring.get_as(&token, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn members_edit_their_own_profile() {
    let app = spawn_app().await;
    let token = app.member("jun").await;
    let update = json!({"display_name": "  Jun 俊  ", "bio": "Coffee & hiking\nShanghai"});
    let response = app
        .send_as(Method::PATCH, &token, "/api/v1/me", Some(update))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let public: Value = app.get_json("/api/v1/users/JUN").await;
    assert_eq!(public["display_name"], "Jun 俊");
    assert_eq!(public["bio"], "Coffee & hiking\nShanghai");

    let too_long = json!({"bio": "x".repeat(301)});
    let response = app
        .send_as(Method::PATCH, &token, "/api/v1/me", Some(too_long))
        .await;
    assert_eq!(problem(response).await["errors"][0]["field"], "bio");
    let missing = app
        .api
        .get(app.url("/api/v1/users/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn personal_tokens_can_be_made_listed_used_and_revoked() {
    let app = spawn_app().await;
    let session = app.member("kai").await;
    let response = app
        .send_as(
            Method::POST,
            &session,
            "/api/v1/me/tokens",
            Some(json!({"name": "shop sync"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let made: Value = response.json().await.unwrap();
    let secret = made["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_as(&secret, "/api/v1/me").await.status(),
        StatusCode::OK
    );

    let list: Value = app.get_json_as(&session, "/api/v1/me/tokens").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "shop sync");
    assert!(list[0].get("token").is_none(), "secrets are shown once");

    let other = app.member("lin").await;
    let path = format!("/api/v1/me/tokens/{}", made["id"].as_str().unwrap());
    let foreign = app.send_as(Method::DELETE, &other, &path, None).await;
    assert_eq!(
        foreign.status(),
        StatusCode::NOT_FOUND,
        "one cannot revoke another's token"
    );
    let revoked = app.send_as(Method::DELETE, &session, &path, None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as(&secret, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let malformed = app
        .send_as(
            Method::DELETE,
            &session,
            "/api/v1/me/tokens/not-an-id",
            None,
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_administrators_list_members_and_set_roles() {
    let app = spawn_app().await;
    let member = app.member("mia").await;
    for handle in ["nora", "omar", "pia"] {
        app.signup(handle).await;
    }
    let admin = app.admin("root_admin").await;
    let refused = app.get_as(&member, "/api/v1/admin/users").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let first: Value = app.get_json_as(&admin, "/api/v1/admin/users?limit=3").await;
    let handles: Vec<&str> = item_strings(&first, "handle");
    assert_eq!(handles, ["root_admin", "pia", "omar"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_json_as(
            &admin,
            &format!("/api/v1/admin/users?limit=3&cursor={cursor}"),
        )
        .await;
    let handles: Vec<&str> = item_strings(&second, "handle");
    assert_eq!(handles, ["nora", "mia"]);
    assert!(second["next_cursor"].is_null());

    let promote = json!({"role": "moderator"});
    let refused = app
        .send_as(
            Method::PUT,
            &member,
            "/api/v1/admin/users/nora/role",
            Some(promote.clone()),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let done = app
        .send_as(
            Method::PUT,
            &admin,
            "/api/v1/admin/users/nora/role",
            Some(promote),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let nora: Value = app.get_json("/api/v1/users/nora").await;
    assert_eq!(nora["role"], "moderator");
    let bad_role = app
        .send_as(
            Method::PUT,
            &admin,
            "/api/v1/admin/users/nora/role",
            Some(json!({"role": "king"})),
        )
        .await;
    assert_eq!(problem(bad_role).await["errors"][0]["field"], "role");
}

#[tokio::test]
async fn behind_a_proxy_each_client_address_has_its_own_sign_in_budget() {
    let app = spawn_app_with(|c| {
        c.server.behind_proxy = true;
        c.auth.login_address_burst = 2;
    })
    .await;
    let attempt = |address: &'static str| {
        let request = app.api.post(app.url("/api/v1/auth/login"));
        let body = json!({"handle": format!("x{}", address.len()), "password": "guess guess"});
        async move {
            let request = request.header("x-forwarded-for", format!("6.6.6.6, {address}"));
            request.json(&body).send().await.unwrap().status()
        }
    };
    assert_eq!(attempt("10.0.0.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("10.0.0.1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("10.0.0.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        attempt("10.0.0.22").await,
        StatusCode::UNAUTHORIZED,
        "another client is not throttled"
    );
}
