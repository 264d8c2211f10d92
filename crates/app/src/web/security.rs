//! Response headers that keep browsers strict, and the same-origin check on state changes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
    media-src 'self' blob:; style-src 'self'; script-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Refuses a state-changing request that a browser says comes from another site. Browsers send
/// `Origin` on every cross-site POST, PUT, PATCH and DELETE; API clients outside a browser send
/// none and authenticate with bearer tokens, which a forged request cannot carry. Behind a proxy
/// that rewrites `Host`, the configured public URL is the site's origin.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !origin_is_ours(&request, &state.config.server.public_url) {
        return AppError::Forbidden("cross-site requests are not accepted").into_response();
    }
    next.run(request).await
}

fn origin_is_ours(request: &Request, public_url: &str) -> bool {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return true;
    };
    if origin
        .as_bytes()
        .eq_ignore_ascii_case(public_url.trim_end_matches('/').as_bytes())
    {
        return true;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}
