//! Search API under `/api/v1`.

use axum::extract::State;
use axum::Json;
use kernel::{Page, PageRequest};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::{SearchItem, SearchSort, SearchType};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiQuery, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(suggest))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for, in any mix of Chinese and English (at most 100 characters).
    pub q: String,
    #[serde(rename = "type", default)]
    #[param(rename = "type")]
    pub kind: SearchType,
    #[serde(default)]
    pub sort: SearchSort,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Search notes, members, topics or products on sale.
#[utoipa::path(get, path = "/search", tag = "search", params(SearchParams),
    responses((status = 200, body = Page<SearchItem>), (status = 400, body = Problem)))]
async fn search(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> AppResult<Json<Page<SearchItem>>> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: params.limit,
    };
    Ok(Json(
        service::search(
            &state,
            viewer.as_ref(),
            &params.q,
            params.kind,
            params.sort,
            &page,
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What has been typed so far.
    pub q: String,
}

/// Suggestions while typing: topics (`#…`) and popular searches starting with the text.
#[utoipa::path(get, path = "/search/suggest", tag = "search", params(SuggestParams),
    responses((status = 200, body = Vec<String>)))]
async fn suggest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SuggestParams>,
) -> AppResult<Json<Vec<String>>> {
    Ok(Json(service::suggest(&state, &params.q).await?))
}
