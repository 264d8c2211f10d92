//! The Explore page (also the home page), Following and topic channels, as a waterfall of cards with endless
//! scrolling; each card says why it is there, in the reader's language.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kernel::{Page, PageRequest};

use super::service::{self, FeedCard};
use super::types::Channel;
use crate::error::{AppError, AppResult};
use crate::notes::types::Note;
use crate::state::AppState;
use crate::web::extract::ApiQuery;
use crate::web::i18n::Lang;
use crate::web::pages::{render, PageCtx};

/// Topic channels given a tab beside Explore and Following.
const CHANNEL_TABS: usize = 8;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(explore))
        .route("/explore", get(explore))
        .route("/explore/{topic}", get(topic))
        .route("/following", get(following))
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExplorePage {
    ctx: PageCtx,
    /// The tab shown: `explore`, `following` or a topic's name.
    current: String,
    channels: Vec<String>,
    /// Where the next page is, without its cursor.
    path: String,
    cards: Vec<(Note, String)>,
    next_cursor: Option<String>,
}

fn page(
    state: &AppState,
    ctx: PageCtx,
    current: &str,
    path: String,
    page: Page<FeedCard>,
) -> AppResult<Response> {
    let cards = page
        .items
        .into_iter()
        .map(|card| {
            let reason = card.reason.describe(ctx.t, &card.note.author.display_name);
            (card.note, reason)
        })
        .collect();
    let chinese = ctx.lang == Lang::ZhCn;
    // A channel's tab is current under either of its names.
    let current = Channel::of(current).name(chinese).to_owned();
    render(
        StatusCode::OK,
        &ExplorePage {
            channels: service::channels(state, CHANNEL_TABS, chinese),
            ctx,
            current,
            path,
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
    page(&state, ctx, "explore", "/explore".to_owned(), cards)
}

async fn topic(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(topic): Path<String>,
    ApiQuery(request): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let cards = service::topic(&state, ctx.user.as_ref(), &topic, &request).await?;
    let name = topic.trim_start_matches('#').to_lowercase();
    let path = format!("/explore/{name}");
    page(&state, ctx, &name, path, cards)
}

async fn following(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(request): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let user = ctx.user.clone().ok_or(AppError::Unauthorized)?;
    let cards = service::following(&state, &user, &request).await?;
    page(&state, ctx, "following", "/following".to_owned(), cards)
}
