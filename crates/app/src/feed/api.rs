//! Feed API under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kernel::{Page, PageRequest};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, EventsTaken, FeedCard, FeedEvent, FeedSettings, FeedStats, Interest};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(explore))
        .routes(routes!(following))
        .routes(routes!(topic))
        .routes(routes!(events))
        .routes(routes!(interests))
        .routes(routes!(forget_interest))
        .routes(routes!(settings, set_settings))
        .routes(routes!(stats))
}

/// Explore: a page of cards chosen for the reader, each saying why it is there.
#[utoipa::path(get, path = "/feed/explore", tag = "feed", params(PageRequest),
    responses((status = 200, body = Page<FeedCard>), (status = 400, body = Problem)))]
async fn explore(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<FeedCard>>> {
    Ok(Json(
        service::explore(&state, viewer.as_ref(), &page).await?,
    ))
}

/// Following: newest first from the people the reader follows.
#[utoipa::path(get, path = "/feed/following", tag = "feed", params(PageRequest),
    responses((status = 200, body = Page<FeedCard>), (status = 401, body = Problem)))]
async fn following(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<FeedCard>>> {
    Ok(Json(service::following(&state, &user, &page).await?))
}

/// A topic channel.
#[utoipa::path(get, path = "/feed/topics/{topic}", tag = "feed",
    params(("topic" = String, Path, description = "The topic, without #"), PageRequest),
    responses((status = 200, body = Page<FeedCard>), (status = 404, body = Problem)))]
async fn topic(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(topic): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<FeedCard>>> {
    Ok(Json(
        service::topic(&state, viewer.as_ref(), &topic, &page).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct EventBatch {
    /// At most 500.
    events: Vec<FeedEvent>,
}

/// Reports what the reader did with cards: impressions (shown), reads (opened), "not
/// interested", "fewer from this author".
#[utoipa::path(post, path = "/feed/events", tag = "feed", request_body = EventBatch,
    responses((status = 200, body = EventsTaken), (status = 422, body = Problem)))]
async fn events(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(batch): ApiJson<EventBatch>,
) -> AppResult<Json<EventsTaken>> {
    Ok(Json(
        service::record_events(&state, &user, &batch.events).await?,
    ))
}

/// The interest tags the platform keeps about the reader.
#[utoipa::path(get, path = "/me/interests", tag = "feed",
    responses((status = 200, body = Vec<Interest>), (status = 401, body = Problem)))]
async fn interests(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<Vec<Interest>> {
    Json(service::interests(&state, &user))
}

/// Deletes an interest tag.
#[utoipa::path(delete, path = "/me/interests/{topic}", tag = "feed",
    params(("topic" = String, Path, description = "The topic, without #")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn forget_interest(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(topic): ApiPath<String>,
) -> AppResult<StatusCode> {
    service::forget_interest(&state, &user, &topic).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether Explore is personalised for the reader.
#[utoipa::path(get, path = "/me/feed-settings", tag = "feed",
    responses((status = 200, body = FeedSettings), (status = 401, body = Problem)))]
async fn settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<FeedSettings>> {
    Ok(Json(service::settings(&state, &user).await?))
}

/// Turns personalisation on or off.
#[utoipa::path(put, path = "/me/feed-settings", tag = "feed", request_body = FeedSettings,
    responses((status = 200, body = FeedSettings), (status = 422, body = Problem)))]
async fn set_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(settings): ApiJson<FeedSettings>,
) -> AppResult<Json<FeedSettings>> {
    Ok(Json(service::set_settings(&state, &user, &settings).await?))
}

/// The fairness figure and traffic-pool promotions (administrators).
#[utoipa::path(get, path = "/admin/feed/stats", tag = "admin",
    responses((status = 200, body = FeedStats), (status = 403, body = Problem)))]
async fn stats(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<FeedStats>> {
    Ok(Json(service::stats(&state, &user)?))
}
