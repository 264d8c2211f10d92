//! One error type for the whole application.
//!
//! Each variant has a status and a stable problem `type`. For the JSON API it is rendered as
//! `application/problem+json` (RFC 9457); page routes turn the same value into an HTML page (see
//! `web::pages`). Internal causes are logged, never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field at fault, e.g. `handle`.
    pub field: String,
    /// Why it was refused, in English.
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("the handle or the password is wrong")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    /// The server is at capacity for this kind of work (such as decoding images); try again
    /// in this many seconds.
    #[error("the server is busy; try again in {0} seconds")]
    Busy(u64),
    /// A service Hongshu relies on (a payment provider) failed or could not be reached.
    #[error("{0}")]
    Upstream(String),
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}

/// The body of an error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// For validation problems: each field at fault and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    /// A validation error about one field.
    /// For a failed insert: a 409 naming `field` when it broke a unique constraint (another row
    /// already has the value), an internal error otherwise.
    pub fn taken(field: &'static str, why: &'static str) -> impl FnOnce(sqlx::Error) -> AppError {
        move |err| {
            if store::is_unique_violation(&err) {
                AppError::Conflict(field, why.into())
            } else {
                err.into()
            }
        }
    }

    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, detail)])
    }

    /// Both results, or the first failure; when both are invalid, every field of both.
    pub fn together<A, B>(a: AppResult<A>, b: AppResult<B>) -> AppResult<(A, B)> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(AppError::Validation(mut first)), Err(AppError::Validation(second))) => {
                first.extend(second);
                Err(AppError::Validation(first))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::Validation(_) => ("validation", "Invalid fields"),
            AppError::BadRequest(_) => ("bad-request", "Bad request"),
            AppError::Unauthorized => ("unauthorized", "Not signed in"),
            AppError::BadCredentials => ("bad-credentials", "Sign-in failed"),
            AppError::Forbidden(_) => ("forbidden", "Not allowed"),
            AppError::NotFound(_) => ("not-found", "Not found"),
            AppError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            AppError::Conflict(..) => ("conflict", "Already exists"),
            AppError::PayloadTooLarge => ("payload-too-large", "Request too large"),
            AppError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            AppError::TooManyRequests(_) => ("rate-limited", "Too many requests"),
            AppError::Busy(_) => ("busy", "Busy"),
            AppError::Upstream(_) => ("upstream", "A service we rely on failed"),
            AppError::Internal(_) => ("internal", "Internal error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let errors = match self {
            AppError::Validation(fields) => fields.clone(),
            AppError::Conflict(field, detail) => vec![FieldError::new(*field, detail.clone())],
            _ => Vec::new(),
        };
        Problem {
            kind: format!("/problems/{kind}"),
            title,
            status: self.status().as_u16(),
            detail: self.to_string(),
            errors,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        AppError::Validation(vec![err])
    }
}

impl From<store::StoreError> for AppError {
    fn from(err: store::StoreError) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        AppError::NotFound(match rejection {
            axum::extract::rejection::PathRejection::FailedToDeserializePathParams(_) => "resource",
            _ => "route",
        })
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        AppError::BadRequest(format!(
            "the query string is invalid: {}",
            rejection.body_text()
        ))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let problem = self.to_problem();
        let mut response = (self.status(), axum::Json(&problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::TooManyRequests(seconds) | AppError::Busy(seconds) = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        // Page routes read this to render the same problem as HTML.
        response.extensions_mut().insert(problem);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let err = AppError::Internal(anyhow::anyhow!("password for db is hunter2"));
        let problem = err.to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn conflicts_name_the_field() {
        let problem = AppError::Conflict("handle", "taken".into()).to_problem();
        assert_eq!(problem.status, 409);
        assert_eq!(problem.errors[0].field, "handle");
    }
}
