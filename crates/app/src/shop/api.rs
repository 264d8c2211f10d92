//! JSON API of the mall's catalogue under `/api/v1`: stores, products and SKUs.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use kernel::{Id, Page, PageRequest};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, ProductDraft, SkuChange, StoreDraft};
use super::types::{Product, Sku, SkuDraft, Store};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, MaybeUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_store, org_store))
        .routes(routes!(stores))
        .routes(routes!(get_store, update_store))
        .routes(routes!(store_products, create_product))
        .routes(routes!(mall_products))
        .routes(routes!(get_product, update_product))
        .routes(routes!(add_sku))
        .routes(routes!(update_sku))
        .routes(routes!(note_products))
}

/// The products on sale that a note tags, to buy from the note.
#[utoipa::path(get, path = "/notes/{id}/products", tag = "shop",
    params(("id" = Id, Path, description = "The note's id")),
    responses((status = 200, body = Vec<Product>), (status = 404, body = Problem)))]
async fn note_products(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Vec<Product>>> {
    Ok(Json(
        crate::notes::service::tagged_products(&state, viewer.as_ref(), id).await?,
    ))
}

/// Open the organisation's store (its staff only; one store per organisation).
#[utoipa::path(post, path = "/orgs/{slug}/store", tag = "shop", request_body = StoreDraft,
    params(("slug" = String, Path, description = "The organisation's slug")),
    responses((status = 201, body = Store), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn open_store(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(draft): ApiJson<StoreDraft>,
) -> AppResult<Response> {
    Ok(created(
        service::open_store(&state, &user, &slug, &draft).await?,
    ))
}

/// The store an organisation runs.
#[utoipa::path(get, path = "/orgs/{slug}/store", tag = "shop",
    params(("slug" = String, Path, description = "The organisation's slug")),
    responses((status = 200, body = Store), (status = 404, body = Problem)))]
async fn org_store(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<Store>> {
    Ok(Json(service::store_of_org(&state, &slug).await?))
}

/// The mall's stores, newest first.
#[utoipa::path(get, path = "/stores", tag = "shop", responses((status = 200, body = Vec<Store>)))]
async fn stores(State(state): State<AppState>) -> AppResult<Json<Vec<Store>>> {
    Ok(Json(service::stores(&state).await?))
}

/// A store.
#[utoipa::path(get, path = "/stores/{id}", tag = "shop",
    params(("id" = Id, Path, description = "The store's id")),
    responses((status = 200, body = Store), (status = 404, body = Problem)))]
async fn get_store(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Store>> {
    Ok(Json(service::get_store(&state, id).await?))
}

/// Change a store's name, description and shipping (its staff only).
#[utoipa::path(patch, path = "/stores/{id}", tag = "shop", request_body = StoreDraft,
    params(("id" = Id, Path, description = "The store's id")),
    responses((status = 200, body = Store), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_store(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(draft): ApiJson<StoreDraft>,
) -> AppResult<Json<Store>> {
    Ok(Json(
        service::update_store(&state, &user, id, &draft).await?,
    ))
}

/// A store's products on sale, newest first; its staff see every state.
#[utoipa::path(get, path = "/stores/{id}/products", tag = "shop",
    params(("id" = Id, Path, description = "The store's id"), PageRequest),
    responses((status = 200, body = Page<Product>), (status = 422, body = Problem)))]
async fn store_products(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Product>>> {
    Ok(Json(
        service::products(&state, viewer.as_ref(), Some(id), None, &page).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewProduct {
    #[serde(flatten)]
    pub product: ProductDraft,
    /// 1–100 variants.
    pub skus: Vec<SkuDraft>,
}

/// Add a product with its SKUs to a store (its staff only).
#[utoipa::path(post, path = "/stores/{id}/products", tag = "shop", request_body = NewProduct,
    params(("id" = Id, Path, description = "The store's id")),
    responses((status = 201, body = Product), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn create_product(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<NewProduct>,
) -> AppResult<Response> {
    Ok(created(
        service::create_product(&state, &user, id, &req.product, &req.skus).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MallParams {
    /// Only this category.
    pub category: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Products on sale in the whole mall, newest first.
#[utoipa::path(get, path = "/products", tag = "shop", params(MallParams),
    responses((status = 200, body = Page<Product>), (status = 422, body = Problem)))]
async fn mall_products(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<MallParams>,
) -> AppResult<Json<Page<Product>>> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: params.limit,
    };
    Ok(Json(
        service::products(&state, None, None, params.category.as_deref(), &page).await?,
    ))
}

/// A product with its SKUs (on sale, or any state for its store's staff).
#[utoipa::path(get, path = "/products/{id}", tag = "shop",
    params(("id" = Id, Path, description = "The product's id")),
    responses((status = 200, body = Product), (status = 404, body = Problem)))]
async fn get_product(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Product>> {
    Ok(Json(service::product(&state, viewer.as_ref(), id).await?))
}

/// Change a product's content, state and creator commission (its store's staff only).
#[utoipa::path(patch, path = "/products/{id}", tag = "shop", request_body = ProductDraft,
    params(("id" = Id, Path, description = "The product's id")),
    responses((status = 200, body = Product), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_product(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(draft): ApiJson<ProductDraft>,
) -> AppResult<Json<Product>> {
    Ok(Json(
        service::update_product(&state, &user, id, &draft).await?,
    ))
}

/// Add a SKU to a product (its store's staff only).
#[utoipa::path(post, path = "/products/{id}/skus", tag = "shop", request_body = SkuDraft,
    params(("id" = Id, Path, description = "The product's id")),
    responses((status = 201, body = Product), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn add_sku(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(draft): ApiJson<SkuDraft>,
) -> AppResult<Response> {
    Ok(created(service::add_sku(&state, &user, id, &draft).await?))
}

/// Change a SKU's name, price, stock on hand or weight (its store's staff only).
#[utoipa::path(patch, path = "/skus/{id}", tag = "shop", request_body = SkuChange,
    params(("id" = Id, Path, description = "The SKU's id")),
    responses((status = 200, body = Sku), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_sku(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(change): ApiJson<SkuChange>,
) -> AppResult<Json<Sku>> {
    Ok(Json(service::update_sku(&state, &user, id, &change).await?))
}
