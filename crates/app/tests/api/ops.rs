use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

const METRICS_TOKEN: &str = "operators-only";

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app_with(|c| c.server.metrics_token = METRICS_TOKEN.into()).await;
    assert_eq!(
        app.api
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Not ready while the ledger loads; a load balancer asks again. The only node of its
    // database then holds its id, writes the ledger and runs the chores.
    let settled = "ready\ndatabase: answers\nnode id 0: held\nledger: writes\nchores: yes\n";
    let mut seen = String::new();
    for _ in 0..100 {
        let ready = app.api.get(app.url("/readyz")).send().await.unwrap();
        let status = ready.status();
        seen = ready.text().await.unwrap();
        if seen.starts_with("ready\n") {
            assert_eq!(status, StatusCode::OK);
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{seen}");
        }
        if seen == settled {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, settled);
    app.signup("metric_maker").await;
    let metrics = app
        .api
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"hongshu_http_requests_total{method="POST",route="/api/v1/auth/signup",status="201"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("hongshu_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metrics_are_for_operators_only() {
    let guarded = spawn_app_with(|c| c.server.metrics_token = METRICS_TOKEN.into()).await;
    let ask = |app: &crate::helpers::TestApp, token: Option<&str>| {
        let request = app.api.get(app.url("/metrics"));
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(ask(&guarded, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        ask(&guarded, Some("operators")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(ask(&guarded, Some(METRICS_TOKEN)).await, StatusCode::OK);
    let unconfigured = spawn_app().await;
    assert_eq!(ask(&unconfigured, None).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.close().await;
    let response = app.api.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let expected = [
        ("/api/v1/auth/signup", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/users/{handle}", "get"),
        ("/api/v1/me/tokens", "get"),
        ("/api/v1/me/tokens", "post"),
        ("/api/v1/me/archive", "get"),
        ("/api/v1/me/account", "delete"),
        ("/api/v1/me/tokens/{id}", "delete"),
        ("/api/v1/admin/users", "get"),
        ("/api/v1/admin/users/{handle}/role", "put"),
        ("/api/v1/orgs", "post"),
        ("/api/v1/orgs/{slug}", "get"),
        ("/api/v1/me/orgs", "get"),
        ("/api/v1/orgs/{slug}/members", "get"),
        ("/api/v1/orgs/{slug}/members/{handle}", "put"),
        ("/api/v1/orgs/{slug}/members/{handle}", "delete"),
        ("/api/v1/admin/orgs/{slug}/verified", "put"),
        ("/api/v1/admin/ledger/accounts", "post"),
        ("/api/v1/admin/ledger/accounts/{id}", "get"),
        ("/api/v1/admin/ledger/accounts/{id}/transfers", "get"),
        ("/api/v1/admin/ledger/transfers", "post"),
        ("/api/v1/admin/ledger/transfers/{id}", "get"),
        ("/api/v1/admin/ledger/trial-balance", "get"),
        ("/api/v1/media", "post"),
        ("/api/v1/notes", "post"),
        ("/api/v1/notes/{id}", "get"),
        ("/api/v1/notes/{id}", "patch"),
        ("/api/v1/notes/{id}", "delete"),
        ("/api/v1/users/{handle}/notes", "get"),
        ("/api/v1/topics/{topic}/notes", "get"),
        ("/api/v1/users/{handle}/follow", "put"),
        ("/api/v1/users/{handle}/follow", "delete"),
        ("/api/v1/users/{handle}/followers", "get"),
        ("/api/v1/users/{handle}/following", "get"),
        ("/api/v1/users/{handle}/stats", "get"),
        ("/api/v1/notes/{id}/like", "put"),
        ("/api/v1/notes/{id}/like", "delete"),
        ("/api/v1/notes/{id}/collect", "put"),
        ("/api/v1/notes/{id}/collect", "delete"),
        ("/api/v1/me/boards", "post"),
        ("/api/v1/users/{handle}/boards", "get"),
        ("/api/v1/boards/{id}/notes", "get"),
        ("/api/v1/notes/{id}/comments", "post"),
        ("/api/v1/notes/{id}/comments", "get"),
        ("/api/v1/comments/{id}/like", "put"),
        ("/api/v1/comments/{id}/like", "delete"),
        ("/api/v1/comments/{id}", "delete"),
        ("/api/v1/comments/{id}/pin", "put"),
        ("/api/v1/comments/{id}/pin", "delete"),
        ("/api/v1/users/{handle}/block", "put"),
        ("/api/v1/users/{handle}/block", "delete"),
        ("/api/v1/users/{handle}/mute", "put"),
        ("/api/v1/users/{handle}/mute", "delete"),
        ("/api/v1/reports", "post"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/unread-count", "get"),
        ("/api/v1/notifications/read", "post"),
        ("/api/v1/search", "get"),
        ("/api/v1/search/suggest", "get"),
        ("/api/v1/feed/explore", "get"),
        ("/api/v1/feed/following", "get"),
        ("/api/v1/feed/topics/{topic}", "get"),
        ("/api/v1/feed/events", "post"),
        ("/api/v1/me/interests", "get"),
        ("/api/v1/me/interests/{topic}", "delete"),
        ("/api/v1/me/feed-settings", "get"),
        ("/api/v1/me/feed-settings", "put"),
        ("/api/v1/admin/feed/stats", "get"),
        ("/api/v1/orgs/{slug}/store", "post"),
        ("/api/v1/orgs/{slug}/store", "get"),
        ("/api/v1/stores", "get"),
        ("/api/v1/stores/{id}", "get"),
        ("/api/v1/stores/{id}", "patch"),
        ("/api/v1/stores/{id}/products", "get"),
        ("/api/v1/stores/{id}/products", "post"),
        ("/api/v1/products", "get"),
        ("/api/v1/products/{id}", "get"),
        ("/api/v1/products/{id}", "patch"),
        ("/api/v1/products/{id}/skus", "post"),
        ("/api/v1/skus/{id}", "patch"),
        ("/api/v1/me/addresses", "get"),
        ("/api/v1/me/addresses", "post"),
        ("/api/v1/me/addresses/{id}", "delete"),
        ("/api/v1/me/cart", "get"),
        ("/api/v1/me/cart/{sku_id}", "put"),
        ("/api/v1/me/cart/{sku_id}", "delete"),
        ("/api/v1/checkout", "post"),
        ("/api/v1/me/orders", "get"),
        ("/api/v1/orders/{id}", "get"),
        ("/api/v1/orders/{id}/cancel", "post"),
        ("/api/v1/orders/{id}/ship", "post"),
        ("/api/v1/orders/{id}/deliver", "post"),
        ("/api/v1/orders/{id}/confirm", "post"),
        ("/api/v1/stores/{id}/orders", "get"),
        ("/api/v1/orders/{id}/payments", "post"),
        ("/api/v1/payments/{id}", "get"),
        ("/api/v1/payments/{id}/sandbox", "post"),
        ("/api/v1/payments/notify/sandbox", "post"),
        ("/api/v1/payments/notify/alipay", "post"),
        ("/api/v1/payments/notify/wechatpay", "post"),
        ("/api/v1/admin/refunds-owed", "get"),
        ("/api/v1/admin/payments/{id}/refunded-by-hand", "post"),
        ("/api/v1/notes/{id}/products", "get"),
        ("/api/v1/me/earnings", "get"),
        ("/api/v1/orders/{id}/items/{position}/review", "post"),
        ("/api/v1/products/{id}/reviews", "get"),
        ("/api/v1/orders/{id}/after-sales", "post"),
        ("/api/v1/orders/{id}/after-sales", "get"),
        ("/api/v1/after-sales/{id}/approve", "post"),
        ("/api/v1/after-sales/{id}/reject", "post"),
        ("/api/v1/stores/{id}/statement", "get"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not described"
        );
    }
    let described: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        described,
        expected.len(),
        "a route is described that this test does not know"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn the_openapi_document_gives_every_error_as_a_problem() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/api/openapi.json").await;
    let mut errors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    errors += 1;
                    let content = response["content"].as_object().unwrap();
                    let types: Vec<&String> = content.keys().collect();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(errors > 300, "{errors} error answers documented");
}
