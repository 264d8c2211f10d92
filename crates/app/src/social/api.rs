//! JSON API of the social graph under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use kernel::{Id, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::{Board, Comment, NotificationGroup, ProfileStats, ReportReason, ReportTarget};
use crate::accounts::service::user_by_handle;
use crate::error::{AppResult, Problem};
use crate::notes::types::{Author, Note};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(follow, unfollow))
        .routes(routes!(followers))
        .routes(routes!(following))
        .routes(routes!(stats))
        .routes(routes!(like, unlike))
        .routes(routes!(collect, uncollect))
        .routes(routes!(create_board))
        .routes(routes!(user_boards))
        .routes(routes!(board_notes))
        .routes(routes!(add_comment, list_comments))
        .routes(routes!(like_comment, unlike_comment))
        .routes(routes!(delete_comment))
        .routes(routes!(pin_comment, unpin_comment))
        .routes(routes!(block, unblock))
        .routes(routes!(mute, unmute))
        .routes(routes!(report))
        .routes(routes!(notifications))
        .routes(routes!(unread))
        .routes(routes!(mark_read))
}

/// The count after a like, collect or their undoing.
#[derive(Serialize, ToSchema)]
pub struct Count {
    pub count: i64,
}

type Handle = ApiPath<String>;

/// Follow a member.
#[utoipa::path(put, path = "/users/{handle}/follow", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn follow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::follow(&state, &user, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following a member.
#[utoipa::path(delete, path = "/users/{handle}/follow", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn unfollow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::unfollow(&state, &user, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's followers.
#[utoipa::path(get, path = "/users/{handle}/followers", tag = "social",
    params(("handle" = String, Path, description = "Whose"), PageRequest), responses((status = 200, body = Page<Author>)))]
async fn followers(
    State(state): State<AppState>,
    ApiPath(handle): Handle,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Author>>> {
    Ok(Json(
        service::follow_list(&state, &handle, true, &page).await?,
    ))
}

/// Whom a member follows.
#[utoipa::path(get, path = "/users/{handle}/following", tag = "social",
    params(("handle" = String, Path, description = "Whose"), PageRequest), responses((status = 200, body = Page<Author>)))]
async fn following(
    State(state): State<AppState>,
    ApiPath(handle): Handle,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Author>>> {
    Ok(Json(
        service::follow_list(&state, &handle, false, &page).await?,
    ))
}

/// The counts on a member's profile.
#[utoipa::path(get, path = "/users/{handle}/stats", tag = "social", params(("handle" = String, Path, description = "Whose")),
    responses((status = 200, body = ProfileStats), (status = 404, body = Problem)))]
async fn stats(
    State(state): State<AppState>,
    ApiPath(handle): Handle,
) -> AppResult<Json<ProfileStats>> {
    let user = user_by_handle(&state, &handle).await?;
    Ok(Json(service::profile_stats(&state, &user).await?))
}

/// Like a note (liking twice is a no-op).
#[utoipa::path(put, path = "/notes/{id}/like", tag = "social", params(("id" = Id, Path, description = "The note")),
    responses((status = 200, body = Count), (status = 404, body = Problem)))]
async fn like(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::set_like(&state, &user, id, true).await?,
    }))
}

/// Take back a like.
#[utoipa::path(delete, path = "/notes/{id}/like", tag = "social", params(("id" = Id, Path, description = "The note")),
    responses((status = 200, body = Count), (status = 404, body = Problem)))]
async fn unlike(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::set_like(&state, &user, id, false).await?,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardChoice {
    /// One of your boards; your default board when absent.
    pub board_id: Option<Id>,
}

/// Collect a note into a board (or move it to another board).
#[utoipa::path(put, path = "/notes/{id}/collect", tag = "social", params(("id" = Id, Path, description = "The note"), BoardChoice),
    responses((status = 200, body = Count), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn collect(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(choice): ApiQuery<BoardChoice>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::collect(&state, &user, id, choice.board_id).await?,
    }))
}

/// Take a note out of one's boards.
#[utoipa::path(delete, path = "/notes/{id}/collect", tag = "social", params(("id" = Id, Path, description = "The note")),
    responses((status = 200, body = Count), (status = 404, body = Problem)))]
async fn uncollect(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::uncollect(&state, &user, id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewBoard {
    pub name: String,
    #[serde(default)]
    pub public: bool,
}

/// Make a board.
#[utoipa::path(post, path = "/me/boards", tag = "social", request_body = NewBoard,
    responses((status = 201, body = Board), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_board(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<NewBoard>,
) -> AppResult<Response> {
    Ok(created(
        service::create_board(&state, &user, &req.name, req.public).await?,
    ))
}

/// A member's boards (all for the owner, public ones for others).
#[utoipa::path(get, path = "/users/{handle}/boards", tag = "social", params(("handle" = String, Path, description = "Whose")),
    responses((status = 200, body = Vec<Board>), (status = 404, body = Problem)))]
async fn user_boards(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(handle): Handle,
) -> AppResult<Json<Vec<Board>>> {
    let owner = user_by_handle(&state, &handle).await?;
    Ok(Json(
        service::boards(&state, viewer.as_ref(), &owner).await?,
    ))
}

/// The notes in a board, last collected first.
#[utoipa::path(get, path = "/boards/{id}/notes", tag = "social", params(("id" = Id, Path, description = "The board"), PageRequest),
    responses((status = 200, body = Page<Note>), (status = 404, body = Problem)))]
async fn board_notes(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Note>>> {
    Ok(Json(
        service::board_notes(&state, viewer.as_ref(), id, &page)
            .await?
            .1,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewComment {
    /// 1 to 500 characters.
    pub body: String,
    /// The comment replied to, if any.
    pub parent_id: Option<Id>,
}

/// Comment on a note, or reply to a comment.
#[utoipa::path(post, path = "/notes/{id}/comments", tag = "social", request_body = NewComment,
    params(("id" = Id, Path, description = "The note")),
    responses((status = 201, body = Comment), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<NewComment>,
) -> AppResult<Response> {
    Ok(created(
        service::comment(&state, &user, id, &req.body, req.parent_id).await?,
    ))
}

/// A note's comments with their replies; the pinned comment first.
#[utoipa::path(get, path = "/notes/{id}/comments", tag = "social", params(("id" = Id, Path, description = "The note"), PageRequest),
    responses((status = 200, body = Page<Comment>), (status = 404, body = Problem)))]
async fn list_comments(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Comment>>> {
    Ok(Json(
        service::comments(&state, viewer.as_ref(), id, &page).await?,
    ))
}

/// Like a comment.
#[utoipa::path(put, path = "/comments/{id}/like", tag = "social", params(("id" = Id, Path, description = "The comment")),
    responses((status = 200, body = Count), (status = 404, body = Problem)))]
async fn like_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::like_comment(&state, &user, id, true).await?,
    }))
}

/// Take back a comment like.
#[utoipa::path(delete, path = "/comments/{id}/like", tag = "social", params(("id" = Id, Path, description = "The comment")),
    responses((status = 200, body = Count), (status = 404, body = Problem)))]
async fn unlike_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Count>> {
    Ok(Json(Count {
        count: service::like_comment(&state, &user, id, false).await?,
    }))
}

/// Delete a comment (its author, or the note's author) with its replies.
#[utoipa::path(delete, path = "/comments/{id}", tag = "social", params(("id" = Id, Path, description = "The comment")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::delete_comment(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pin a comment to the top of the note (the note's author).
#[utoipa::path(put, path = "/comments/{id}/pin", tag = "social", params(("id" = Id, Path, description = "The comment")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn pin_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::pin_comment(&state, &user, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpin a comment.
#[utoipa::path(delete, path = "/comments/{id}/pin", tag = "social", params(("id" = Id, Path, description = "The comment")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn unpin_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::pin_comment(&state, &user, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Block a member: neither of you sees, follows or comments on the other.
#[utoipa::path(put, path = "/users/{handle}/block", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn block(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::set_block(&state, &user, &handle, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock a member.
#[utoipa::path(delete, path = "/users/{handle}/block", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn unblock(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::set_block(&state, &user, &handle, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mute a member: their notifications no longer reach you.
#[utoipa::path(put, path = "/users/{handle}/mute", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn mute(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::set_mute(&state, &user, &handle, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unmute a member.
#[utoipa::path(delete, path = "/users/{handle}/mute", tag = "social", params(("handle" = String, Path, description = "Whom")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn unmute(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): Handle,
) -> AppResult<StatusCode> {
    service::set_mute(&state, &user, &handle, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct NewReport {
    pub target: ReportTarget,
    pub target_id: Id,
    pub reason: ReportReason,
    #[serde(default)]
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportReceipt {
    pub id: Id,
}

/// Report a note, comment or member to the moderators.
#[utoipa::path(post, path = "/reports", tag = "social", request_body = NewReport,
    responses((status = 201, body = ReportReceipt), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn report(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<NewReport>,
) -> AppResult<Response> {
    let id = service::report(
        &state,
        &user,
        req.target,
        req.target_id,
        req.reason,
        &req.detail,
    )
    .await?;
    Ok(created(ReportReceipt { id }))
}

/// One's notifications, newest first, grouped.
#[utoipa::path(get, path = "/notifications", tag = "social", params(PageRequest),
    responses((status = 200, body = Page<NotificationGroup>), (status = 401, body = Problem)))]
async fn notifications(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<NotificationGroup>>> {
    Ok(Json(service::notifications(&state, &user, &page).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Unread {
    pub unread: i64,
}

/// How many notifications are unread.
#[utoipa::path(get, path = "/notifications/unread-count", tag = "social",
    responses((status = 200, body = Unread), (status = 401, body = Problem)))]
async fn unread(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Unread>> {
    Ok(Json(Unread {
        unread: service::unread_count(&state, &user).await?,
    }))
}

/// Mark every notification read.
#[utoipa::path(post, path = "/notifications/read", tag = "social", responses((status = 204), (status = 401, body = Problem)))]
async fn mark_read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<StatusCode> {
    service::mark_read(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
