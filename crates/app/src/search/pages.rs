//! The search page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kernel::PageRequest;
use serde::Deserialize;

use super::service;
use super::types::{SearchItem, SearchSort, SearchType};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::ApiQuery;
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: PageCtx,
    q: String,
    kind: &'static str,
    sort: &'static str,
    items: Vec<SearchItem>,
    next_cursor: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    q: String,
    #[serde(rename = "type", default)]
    kind: SearchType,
    #[serde(default)]
    sort: SearchSort,
    cursor: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(params): ApiQuery<Params>,
) -> AppResult<Response> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(20),
    };
    let kind = match params.kind {
        SearchType::Notes => "notes",
        SearchType::Users => "users",
        SearchType::Topics => "topics",
        SearchType::Products => "products",
    };
    let sort = match params.sort {
        SearchSort::Relevance => "relevance",
        SearchSort::Latest => "latest",
        SearchSort::Popular => "popular",
    };
    let (items, next_cursor, message, status) = if params.q.trim().is_empty() {
        (Vec::new(), None, None, StatusCode::OK)
    } else {
        match service::search(
            &state,
            ctx.user.as_ref(),
            &params.q,
            params.kind,
            params.sort,
            &page,
        )
        .await
        {
            Ok(found) => (found.items, found.next_cursor, None, StatusCode::OK),
            Err(AppError::BadRequest(why)) => {
                (Vec::new(), None, Some(why), StatusCode::BAD_REQUEST)
            }
            Err(other) => return Err(other),
        }
    };
    let view = SearchPage {
        ctx,
        q: params.q,
        kind,
        sort,
        items,
        next_cursor,
        message,
    };
    render(status, &view)
}
