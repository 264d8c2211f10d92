//! JSON API of privacy under `/api/v1`: one's archive, and deleting one's account.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::{archive_name, DeleteAccount};
use crate::accounts::types::User;
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiJson, AuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(archive))
        .routes(routes!(delete_account))
}

/// Everything Hongshu holds about the signed-in member, as a ZIP archive: `data.json` (profile,
/// notes, comments, likes, collects, boards, follows, blocks, mutes, addresses, orders,
/// reviews, interest tags, a summary of impressions) and their notes' media.
#[utoipa::path(get, path = "/me/archive", tag = "accounts",
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 401, body = Problem)))]
async fn archive(State(state): State<AppState>, AuthUser(user): AuthUser) -> AppResult<Response> {
    archive_download(&state, &user).await
}

/// The member's archive as a download (for the API and the settings page alike).
pub async fn archive_download(state: &AppState, user: &User) -> AppResult<Response> {
    let file = service::export(state, user).await?;
    Ok(zip_download(file, &archive_name(&user.handle)))
}

/// A ZIP file as a download, streamed from the file.
fn zip_download(file: std::fs::File, name: &str) -> Response {
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Delete the signed-in member's account, confirmed with their password. Personal data is
/// erased or anonymised at once; orders are kept, without the personal fields, for the
/// retention period the law asks.
#[utoipa::path(delete, path = "/me/account", tag = "accounts", request_body = DeleteAccount,
    responses((status = 204), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn delete_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(request): ApiJson<DeleteAccount>,
) -> AppResult<StatusCode> {
    service::delete_account(&state, &user, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
