//! Uploading media (`POST /api/v1/media`) and serving it (`GET /media/…`).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::Media;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiPath, AuthUser};

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let limit = state
        .config
        .media
        .max_video_bytes
        .max(state.config.media.max_image_bytes)
        + 64 * 1024;
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(limit))
}

/// Serving stored objects: not part of the JSON API.
pub fn files() -> Router<AppState> {
    Router::new().route("/media/{*key}", get(serve))
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Upload {
    /// The image (JPEG, PNG, WebP) or video (MP4, WebM).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

/// Upload an image or a video. Images are checked, stripped of metadata and given a card-size
/// and a display-size derivative.
#[utoipa::path(post, path = "/media", tag = "notes", request_body(content = Upload, content_type = "multipart/form-data"),
    responses((status = 201, body = Media), (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    mut form: Multipart,
) -> AppResult<Response> {
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            let media = service::upload(&state, &user, bytes).await?;
            return Ok(created(media));
        }
    }
    Err(AppError::invalid("file", "is required"))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", err.body_text()))
    }
}

/// Objects are named by their content, so they never change: cache them for a year. Byte ranges
/// let video players seek.
async fn serve(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let valid = key.len() < 200
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'.')
        && !key.contains("..");
    if !valid {
        return Err(AppError::NotFound("file"));
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(text) => {
            Some(parse_range(text).ok_or(AppError::BadRequest("unsupported Range header".into()))?)
        }
        None => None,
    };
    let options = GetOptions {
        range,
        ..GetOptions::default()
    };
    let found = match state
        .media
        .get_opts(&ObjectPath::from(key.as_str()), options)
        .await
    {
        Ok(found) => found,
        Err(object_store::Error::NotFound { .. }) => return Err(AppError::NotFound("file")),
        Err(object_store::Error::NotModified { .. } | object_store::Error::Precondition { .. }) => {
            return Ok(StatusCode::RANGE_NOT_SATISFIABLE.into_response())
        }
        Err(e) if e.to_string().contains("range") => {
            return Ok(StatusCode::RANGE_NOT_SATISFIABLE.into_response())
        }
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let (served, total) = (found.range.clone(), found.meta.size);
    let partial = headers.contains_key(header::RANGE);
    let mut response = Body::from_stream(found.into_stream()).into_response();
    if partial {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let content_range = format!(
            "bytes {}-{}/{total}",
            served.start,
            served.end.saturating_sub(1)
        );
        response.headers_mut().insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&content_range).expect("ascii"),
        );
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&key)),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(served.end - served.start),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("jpg") => "image/jpeg",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`: one range, as video players send.
fn parse_range(header: &str) -> Option<GetRange> {
    let spec = header.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    match (start.trim(), end.trim()) {
        ("", n) => Some(GetRange::Suffix(n.parse().ok()?)),
        (a, "") => Some(GetRange::Offset(a.parse().ok()?)),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then(|| GetRange::Bounded(a..b + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_players_send_them() {
        assert_eq!(parse_range("bytes=0-99"), Some(GetRange::Bounded(0..100)));
        assert_eq!(parse_range("bytes=100-"), Some(GetRange::Offset(100)));
        assert_eq!(parse_range("bytes=-500"), Some(GetRange::Suffix(500)));
        assert_eq!(parse_range("bytes=5-1"), None);
        assert_eq!(parse_range("bytes=0-1,4-5"), None);
        assert_eq!(parse_range("items=0-1"), None);
    }
}
