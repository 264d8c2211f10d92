//! Web pages of the social graph: following, notifications and boards.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service;
use super::types::{Board, NotificationGroup, NotificationKind};
use crate::accounts::service::user_by_handle;
use crate::error::AppResult;
use crate::notes::pages::next_or;
use crate::notes::types::Note;
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery, AuthUser, CsrfForm};
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{handle}/follow", post(toggle_follow))
        .route("/users/{handle}/block", post(toggle_block))
        .route("/notifications", get(notifications_page))
        .route("/boards/{id}", get(board_page))
}

#[derive(Deserialize)]
struct NextForm {
    next: Option<String>,
}

async fn toggle_follow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): ApiPath<String>,
    CsrfForm(form): CsrfForm<NextForm>,
) -> AppResult<Response> {
    let other = user_by_handle(&state, &handle).await?;
    if service::is_following(&state, &user, other.id).await? {
        service::unfollow(&state, &user, &handle).await?;
    } else {
        service::follow(&state, &user, &handle).await?;
    }
    Ok(next_or(
        form.next.as_deref(),
        &format!("/@{}", other.handle),
    ))
}

async fn toggle_block(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): ApiPath<String>,
    CsrfForm(form): CsrfForm<NextForm>,
) -> AppResult<Response> {
    service::toggle_block(&state, &user, &handle).await?;
    Ok(next_or(
        form.next.as_deref(),
        &format!("/@{}", handle.to_ascii_lowercase()),
    ))
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    ctx: PageCtx,
    groups: Vec<NotificationGroup>,
    next_cursor: Option<String>,
}

impl NotificationsPage {
    fn verb(&self, group: &NotificationGroup) -> &'static str {
        let t = self.ctx.t;
        match group.kind {
            NotificationKind::Like => t.n_liked,
            NotificationKind::Collect => t.n_collected,
            NotificationKind::Comment => t.n_commented,
            NotificationKind::Reply => t.n_replied,
            NotificationKind::Mention => t.n_mentioned,
            NotificationKind::Follow => t.n_followed,
            NotificationKind::OrderPaid => t.n_order_paid,
            NotificationKind::OrderShipped => t.n_order_shipped,
            NotificationKind::AfterSaleAsked => t.n_after_sale_asked,
            NotificationKind::RefundApproved => t.n_refund_approved,
            NotificationKind::RefundDeclined => t.n_refund_declined,
            NotificationKind::CommissionEarned => t.n_commission_earned,
        }
    }
}

/// Shows the notifications, then marks them read: the highlight shows what was new this time.
async fn notifications_page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let page = service::notifications(&state, &user, &page).await?;
    service::mark_read(&state, &user).await?;
    render(
        StatusCode::OK,
        &NotificationsPage {
            ctx,
            groups: page.items,
            next_cursor: page.next_cursor,
        },
    )
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    ctx: PageCtx,
    board: Board,
    notes: Vec<Note>,
    next_cursor: Option<String>,
}

async fn board_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let (board, page) = service::board_notes(&state, ctx.user.as_ref(), id, &page).await?;
    render(
        StatusCode::OK,
        &BoardPage {
            ctx,
            board,
            notes: page.items,
            next_cursor: page.next_cursor,
        },
    )
}
