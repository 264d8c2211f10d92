//! What operators look at: liveness, readiness, metrics and the API description.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::state::AppState;

pub fn router(openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
}

/// Ready when this node can serve (`cluster::Readiness::ready`); the body says what it is
/// doing, one fact a line.
async fn ready(State(state): State<AppState>) -> Response {
    let readiness = crate::cluster::readiness(&state).await;
    let yes_no = |fact: bool| if fact { "yes" } else { "no" };
    let ledger = match readiness.ledger {
        ledger::Role::Leading => "writes",
        ledger::Role::TakingOver => "taking over",
        ledger::Role::Following => "forwards",
    };
    let body = format!(
        "{}\ndatabase: {}\nnode id {}: {}\nledger: {ledger}\nchores: {}\n",
        if readiness.ready() {
            "ready"
        } else {
            "not ready"
        },
        if readiness.database {
            "answers"
        } else {
            "unreachable"
        },
        state.node.id,
        if readiness.node_id { "held" } else { "lost" },
        yes_no(readiness.chores),
    );
    let status = if readiness.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

/// The metrics, for operators only: the request must carry the configured token (compared in
/// constant time); without one configured, there is nothing here.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let expected = state.config.server.metrics_token.as_bytes();
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes();
    if expected.is_empty() {
        return AppError::NotFound("page").into_response();
    }
    if !crate::web::extract::constant_time_eq(expected, presented) {
        // Plain, not a trip to the sign-in page: a scraper cannot sign in.
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
        return (
            StatusCode::UNAUTHORIZED,
            challenge,
            "the metrics token is needed",
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
