//! The mall's pages: the shop front and product pages.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service;
use super::types::Product;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery};
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(shop_page))
        .route("/products/{id}", get(product_page))
}

/// The categories the shop front offers as tabs.
const CATEGORIES: [&str; 5] = ["beauty", "fashion", "outdoor", "home", "food"];

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    ctx: PageCtx,
    category: String,
    /// The category tabs: (name, is the current one).
    tabs: Vec<(&'static str, bool)>,
    products: Vec<Product>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ShopParams {
    category: Option<String>,
    cursor: Option<String>,
}

async fn shop_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(24),
    };
    let category = params.category.unwrap_or_default();
    let filter = Some(category.as_str()).filter(|c| !c.is_empty());
    let found = service::products(&state, None, None, filter, &page).await?;
    let tabs = CATEGORIES.iter().map(|c| (*c, *c == category)).collect();
    let view = ShopPage {
        ctx,
        tabs,
        category,
        products: found.items,
        next_cursor: found.next_cursor,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    ctx: PageCtx,
    product: Product,
    verified: bool,
    /// The note the reader came from: its author earns the commission on what they buy.
    from_note: Option<Id>,
    reviews: Vec<crate::orders::types::Review>,
}

#[derive(Deserialize)]
struct ProductParams {
    note: Option<Id>,
}

async fn product_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ProductParams>,
) -> AppResult<Response> {
    let product = service::product(&state, ctx.user.as_ref(), id).await?;
    let store = service::get_store(&state, product.store_id).await?;
    let first = PageRequest {
        cursor: None,
        limit: Some(20),
    };
    let reviews = crate::orders::service::reviews(&state, product.id, &first).await?;
    let view = ProductPage {
        ctx,
        product,
        verified: store.verified,
        from_note: params.note,
        reviews: reviews.items,
    };
    render(StatusCode::OK, &view)
}
