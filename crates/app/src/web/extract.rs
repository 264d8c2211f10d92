//! Request extractors: JSON and form bodies that fail with our errors, and who is asking.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::cookies;
use crate::accounts::service;
use crate::accounts::types::User;
use crate::error::{AppError, FieldError};
use crate::state::AppState;

/// A JSON request body. Wrong content type → 415, over the size limit → 413, not JSON → 400,
/// JSON of the wrong shape → 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        let body = read_body(request, state).await?;
        parse_json(&body).map(ApiJson)
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            let field = if field == "." {
                "body".to_owned()
            } else {
                field
            };
            AppError::Validation(vec![FieldError::new(field, shape_error(&inner))])
        } else {
            AppError::BadRequest(format!(
                "the body is not valid JSON (line {}, column {})",
                inner.line(),
                inner.column()
            ))
        }
    })
}

/// serde's message without its position suffix, e.g. "missing field `handle`".
fn shape_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("the request body could not be read".into())
            }
        })
}

/// A form post from one of our pages: the hidden `_csrf` field must equal the CSRF cookie.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let cookie = cookies::read(request.headers(), cookies::CSRF);
        let body = read_body(request, state).await?;
        let field: CsrfField = serde_urlencoded::from_bytes(&body)
            .map_err(|_| AppError::BadRequest("the form could not be read".into()))?;
        match cookie {
            Some(cookie)
                if !cookie.is_empty()
                    && constant_time_eq(cookie.as_bytes(), field.csrf.as_bytes()) => {}
            _ => {
                return Err(AppError::Forbidden(
                    "the form has expired; reload the page and try again",
                ))
            }
        }
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user, from `Authorization: Bearer …` or the session cookie; 401 otherwise.
pub struct AuthUser(pub User);

/// The signed-in user if there is one. A forged or expired token counts as signed out.
pub struct MaybeUser(pub Option<User>);

/// The token the request carries: the bearer header wins over the cookie.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    bearer.or_else(|| cookies::read(headers, cookies::SESSION))
}

/// Looked up once per request and remembered, since several extractors may ask.
#[derive(Clone)]
struct Authenticated(Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(Authenticated(user)) = parts.extensions.get::<Authenticated>() {
            return Ok(MaybeUser(user.clone()));
        }
        let user = match presented_token(&parts.headers) {
            Some(token) => service::authenticate(state, &token).await?,
            None => None,
        };
        parts.extensions.insert(Authenticated(user.clone()));
        Ok(MaybeUser(user))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        user.map(AuthUser).ok_or(AppError::Unauthorized)
    }
}

/// The address the request came from: the TCP peer, or, behind a reverse proxy, the address
/// that proxy appended last to `X-Forwarded-For` (earlier entries are the client's to forge).
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |info| info.0.ip());
        let forwarded = || {
            let header = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()?;
            header
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok()
        };
        match state.config.server.behind_proxy {
            true => Ok(ClientAddr(forwarded().unwrap_or(peer))),
            false => Ok(ClientAddr(peer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Signup {
        handle: String,
        age: u8,
    }

    #[test]
    fn json_of_the_wrong_shape_names_the_field() {
        match parse_json::<Signup>(br#"{"handle": "a", "age": "old"}"#) {
            Err(AppError::Validation(fields)) => assert_eq!(fields[0].field, "age"),
            other => panic!("expected a validation error, got {other:?}"),
        }
        match parse_json::<Signup>(br#"{"age": 3}"#) {
            Err(AppError::Validation(fields)) => assert!(fields[0].detail.contains("handle")),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Signup>(b"{\"handle\":"),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn tokens_compare_in_constant_time_and_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

/// Path parameters; ones that do not parse (a malformed id) are a 404, as no such thing exists.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; ones that do not parse are a 400 saying which.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);
