//! What a hostile visitor can send: each test here failed before the defect it names was fixed.

use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app};

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
