//! JSON API of notes under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use kernel::{Id, Page, PageRequest};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Draft, Edit};
use super::types::{Note, Visibility};
use crate::accounts::service::user_by_handle;
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_note))
        .routes(routes!(get_note, update_note, delete_note))
        .routes(routes!(user_notes))
        .routes(routes!(topic_notes))
}

#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    /// At most 20 characters.
    #[serde(default)]
    pub title: String,
    /// At most 1,000 characters; `#topic` and `@handle` are recognised.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub place: String,
    /// 1–18 images in order, or one video followed by its cover image.
    pub media_ids: Vec<Id>,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub draft: bool,
    /// Up to 5 products on sale to tag; the note's page offers them to buy.
    #[serde(default)]
    pub product_ids: Vec<Id>,
}

/// A change to a note: the fields given replace the note's, the others stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct NotePatch {
    /// At most 20 characters.
    pub title: Option<String>,
    /// At most 1,000 characters; `#topic` and `@handle` are recognised.
    pub body: Option<String>,
    pub place: Option<String>,
    /// 1–18 images in order, or one video followed by its cover image.
    pub media_ids: Option<Vec<Id>>,
    pub visibility: Option<Visibility>,
    pub draft: Option<bool>,
    /// Up to 5 products on sale to tag.
    pub product_ids: Option<Vec<Id>>,
}

impl NotePatch {
    fn edit(&self) -> Edit<'_> {
        Edit {
            title: self.title.as_deref(),
            body: self.body.as_deref(),
            place: self.place.as_deref(),
            media_ids: self.media_ids.as_deref(),
            visibility: self.visibility,
            draft: self.draft,
            product_ids: self.product_ids.as_deref(),
        }
    }
}

impl NoteRequest {
    fn draft(&self) -> Draft<'_> {
        Draft {
            title: &self.title,
            body: &self.body,
            place: &self.place,
            media_ids: &self.media_ids,
            visibility: self.visibility,
            draft: self.draft,
            product_ids: &self.product_ids,
        }
    }
}

/// Post a note.
#[utoipa::path(post, path = "/notes", tag = "notes", request_body = NoteRequest,
    responses((status = 201, body = Note), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_note(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<Response> {
    Ok(created(service::create(&state, &user, &req.draft()).await?))
}

/// A note.
#[utoipa::path(get, path = "/notes/{id}", tag = "notes", params(("id" = Id, Path, description = "The note's id")),
    responses((status = 200, body = Note), (status = 404, body = Problem)))]
async fn get_note(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Note>> {
    Ok(Json(service::get(&state, viewer.as_ref(), id).await?))
}

/// Change any of a note's fields (author only); a published note is marked edited.
#[utoipa::path(patch, path = "/notes/{id}", tag = "notes", request_body = NotePatch,
    params(("id" = Id, Path, description = "The note's id")),
    responses((status = 200, body = Note), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_note(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(patch): ApiJson<NotePatch>,
) -> AppResult<Json<Note>> {
    Ok(Json(service::edit(&state, &user, id, &patch.edit()).await?))
}

/// Delete a note (author only): it leaves every list, count and notification at once.
#[utoipa::path(delete, path = "/notes/{id}", tag = "notes", params(("id" = Id, Path, description = "The note's id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_note(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::delete(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's notes, newest first (their drafts and private notes only for themselves).
#[utoipa::path(get, path = "/users/{handle}/notes", tag = "notes",
    params(("handle" = String, Path, description = "The member's handle"), PageRequest),
    responses((status = 200, body = Page<Note>), (status = 404, body = Problem)))]
async fn user_notes(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(handle): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Note>>> {
    let author = user_by_handle(&state, &handle).await?;
    Ok(Json(
        service::by_author(&state, viewer.as_ref(), &author, &page).await?,
    ))
}

/// Notes under a topic, newest first.
#[utoipa::path(get, path = "/topics/{topic}/notes", tag = "notes",
    params(("topic" = String, Path, description = "The topic, without #"), PageRequest),
    responses((status = 200, body = Page<Note>)))]
async fn topic_notes(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(topic): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Note>>> {
    Ok(Json(
        service::by_topic(&state, viewer.as_ref(), &topic, &page).await?,
    ))
}
