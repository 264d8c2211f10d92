use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems_not_crashes() {
    let app = spawn_app().await;
    let missing = app
        .api
        .get(app.url("/api/v1/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(missing).await["type"], "/problems/not-found");
    let wrong_method = app
        .api
        .delete(app.url("/api/v1/auth/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem(wrong_method).await["status"], 405);
}

#[tokio::test]
async fn bodies_that_are_too_large_malformed_or_mistyped_get_clear_4xx() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/auth/signup");
    let huge = format!("{{\"handle\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let response = app
        .api
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        problem(response).await["type"],
        "/problems/payload-too-large"
    );

    let broken = app
        .api
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"handle\":")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);

    let wrong_type = app
        .post_json(
            "/api/v1/auth/signup",
            &json!({"handle": 5, "display_name": "x", "password": "y"}),
        )
        .await;
    assert_eq!(wrong_type.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(wrong_type).await["errors"][0]["field"], "handle");

    let missing = app
        .post_json("/api/v1/auth/signup", &json!({"handle": "abc"}))
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let form = app
        .api
        .post(&url)
        .form(&[("handle", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn bad_page_parameters_name_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin("pager_admin").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=abc", "cursor"),
    ] {
        let response = app
            .get_as(&admin, &format!("/api/v1/admin/users?{query}"))
            .await;
        assert!(response.status().is_client_error(), "{query}");
        let body = problem(response).await;
        if body["status"] == 422 {
            assert_eq!(body["errors"][0]["field"], field, "{query}");
        }
    }
    let not_a_number = app.get_as(&admin, "/api/v1/admin/users?limit=many").await;
    assert_eq!(not_a_number.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = spawn_app().await;
    let response = app
        .api
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", "https://evil.example")
        .json(&json!({"handle": "victim", "display_name": "v", "password": "red potato 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let same_site = app
        .api
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", app.address.clone())
        .json(&json!({"handle": "victim", "display_name": "v", "password": "red potato 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_public_url_counts_as_our_origin_behind_a_proxy() {
    let app = spawn_app_with(|c| c.server.public_url = "https://hongshu.example".into()).await;
    let response = app
        .api
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", "https://hongshu.example")
        .json(&json!({"handle": "proxied", "display_name": "p", "password": "red potato 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_refusal_from_the_plumbing_is_a_problem_too() {
    let app = spawn_app().await;
    let token = app.member("uploader").await;
    let no_boundary = app
        .api
        .post(app.url("/api/v1/media"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data")
        .body("file")
        .send()
        .await
        .unwrap();
    assert_eq!(no_boundary.status(), StatusCode::BAD_REQUEST);
    let problem = problem(no_boundary).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("boundary"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_state_stored_under_an_unknown_name_is_an_error_never_another_state() {
    let app = spawn_app().await;
    let token = app.member("stater").await;
    // Before, an unknown role read as a plain member (and an unknown order status as cancelled).
    store::query("UPDATE users SET role = 'overlord' WHERE handle = 'stater'")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let me = app.get_as(&token, "/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
