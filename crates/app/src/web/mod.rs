//! HTTP plumbing shared by every domain: extractors, cookies, languages, page rendering,
//! security headers and request metrics.

pub mod cookies;
pub mod extract;
pub mod i18n;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod security;
pub mod when;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::PageRequest;

use crate::error::{AppError, AppResult};

/// The page size and the key to start after (a keyset position), or a 422 naming the bad
/// parameter.
pub fn page_bounds(page: &PageRequest) -> AppResult<(u32, Option<i64>)> {
    let size = page_size(page)?;
    let after = page
        .after()
        .map_err(|e| AppError::invalid("cursor", e.to_string()))?;
    Ok((size, after.map(|c| c.0)))
}

/// The page size and the position to serve a ranked list from, bounded by
/// `kernel::MAX_POSITION`, or a 422 naming the bad parameter.
pub fn page_position(page: &PageRequest) -> AppResult<(u32, usize)> {
    let size = page_size(page)?;
    let position = page.position().map_err(|e| {
        AppError::invalid(
            "cursor",
            format!("{e} (ranked lists go {} deep)", kernel::MAX_POSITION),
        )
    })?;
    Ok((size, position))
}

fn page_size(page: &PageRequest) -> AppResult<u32> {
    page.size().ok_or_else(|| {
        AppError::invalid(
            "limit",
            format!("must be between 1 and {}", kernel::MAX_PAGE_SIZE),
        )
    })
}

/// 201 Created with the new thing as JSON.
pub fn created(body: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}
