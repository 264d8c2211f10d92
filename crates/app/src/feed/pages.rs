//! The Explore page (also the home page) and Following, as a waterfall of cards with endless
//! scrolling; each card says why it is there, in the reader's language.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kernel::{Page, PageRequest};

use super::service::{self, FeedCard};
use crate::error::{AppError, AppResult};
use crate::notes::types::Note;
use crate::state::AppState;
use crate::web::extract::ApiQuery;
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(explore))
        .route("/explore", get(explore))
        .route("/following", get(following))
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExplorePage {
    ctx: PageCtx,
    following: bool,
    path: &'static str,
    cards: Vec<(Note, String)>,
    next_cursor: Option<String>,
}

fn page(ctx: PageCtx, following: bool, page: Page<FeedCard>) -> AppResult<Response> {
    let cards = page
        .items
        .into_iter()
        .map(|card| {
            let reason = card.reason.describe(ctx.t, &card.note.author.display_name);
            (card.note, reason)
        })
        .collect();
    render(
        StatusCode::OK,
        &ExplorePage {
            ctx,
            following,
            path: if following { "/following" } else { "/explore" },
            cards,
            next_cursor: page.next_cursor,
        },
    )
}

async fn explore(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(request): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let cards = service::explore(&state, ctx.user.as_ref(), &request).await?;
    page(ctx, false, cards)
}

async fn following(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(request): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let user = ctx.user.clone().ok_or(AppError::Unauthorized)?;
    let cards = service::following(&state, &user, &request).await?;
    page(ctx, true, cards)
}
