//! The mall's pages: the shop front and product pages.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service::{self, SkuChange};
use super::types::{Product, ProductState, Store};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery, AuthUser, CsrfForm};
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(shop_page))
        .route("/stores/{id}", get(store_page))
        .route("/products/{id}", get(product_page))
        .route("/stores/{id}/manage", get(manage_page))
        .route("/products/{id}/state", post(set_state))
        .route("/skus/{id}/edit", post(edit_sku))
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    ctx: PageCtx,
    store: Store,
    products: Vec<Product>,
    next_cursor: Option<String>,
}

/// The store's back office: every product in every state, its SKUs' prices and stock.
async fn manage_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    service::require_staff(&state, &user, id).await?;
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(50),
    };
    let found = service::products(&state, Some(&user), Some(id), None, &page).await?;
    let view = ManagePage {
        ctx,
        store: service::get_store(&state, id).await?,
        products: found.items,
        next_cursor: found.next_cursor,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
struct StateForm {
    state: ProductState,
}

async fn set_state(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<StateForm>,
) -> AppResult<Response> {
    let product = service::set_state(&state, &user, id, form.state).await?;
    Ok(Redirect::to(&format!("/stores/{}/manage", product.store_id)).into_response())
}

#[derive(Deserialize)]
struct SkuForm {
    /// Yuan, as merchants write prices: `129.00`.
    price: String,
    stock: i64,
}

async fn edit_sku(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<SkuForm>,
) -> AppResult<Response> {
    let price = kernel::money::minor_units(form.price.trim())
        .ok_or_else(|| AppError::invalid("price", "must be an amount in yuan, such as 129.00"))?;
    let change = SkuChange {
        name: None,
        price: Some(price),
        stock: Some(form.stock),
        weight_g: None,
    };
    service::update_sku(&state, &user, id, &change).await?;
    let product = super::store::product_of_sku(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("sku"))?;
    let product = service::product(&state, Some(&user), product).await?;
    Ok(Redirect::to(&format!("/stores/{}/manage", product.store_id)).into_response())
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
    /// The stores the reader works for, with a way into their back office.
    my_stores: Vec<Store>,
    /// The best sellers, on the shop front's first page.
    popular: Vec<Product>,
    /// The store whose page this is, if it is one.
    store: Option<Store>,
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
    let my_stores = match &ctx.user {
        Some(user) => service::stores_of(&state, user).await?,
        None => Vec::new(),
    };
    let first_page = page.cursor.is_none() && category.is_empty();
    let popular = match first_page {
        true => service::best_selling(&state, 6).await?,
        false => Vec::new(),
    };
    let view = ShopPage {
        popular,
        store: None,
        my_stores,
        ctx,
        tabs,
        category,
        products: found.items,
        next_cursor: found.next_cursor,
    };
    render(StatusCode::OK, &view)
}

/// A store's own page: its name, badge and description, and its products on sale.
async fn store_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    let store = service::get_store(&state, id).await?;
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(24),
    };
    let found = service::products(&state, None, Some(id), None, &page).await?;
    let view = ShopPage {
        ctx,
        category: String::new(),
        tabs: Vec::new(),
        products: found.items,
        next_cursor: found.next_cursor,
        my_stores: Vec::new(),
        popular: Vec::new(),
        store: Some(store),
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
