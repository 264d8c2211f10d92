//! JSON API of buying under `/api/v1`: addresses, the cart, checkout and orders.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use kernel::{Id, Page, PageRequest};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Earnings, Statement};
use super::types::{
    Address, AddressDraft, AfterSale, AfterSaleKind, CartItem, CheckoutRequest, LineRequest, Order,
    OrderStatus, Review, ReviewDraft,
};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(addresses, add_address))
        .routes(routes!(delete_address))
        .routes(routes!(cart))
        .routes(routes!(put_in_cart, remove_from_cart))
        .routes(routes!(checkout))
        .routes(routes!(my_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel))
        .routes(routes!(ship))
        .routes(routes!(deliver))
        .routes(routes!(confirm))
        .routes(routes!(store_orders))
        .routes(routes!(earnings))
        .routes(routes!(review))
        .routes(routes!(product_reviews))
        .routes(routes!(ask_after_sale, after_sales))
        .routes(routes!(approve_after_sale))
        .routes(routes!(reject_after_sale))
        .routes(routes!(statement))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Unix milliseconds, included.
    pub from: i64,
    /// Unix milliseconds, not included.
    pub to: i64,
}

/// A store's settlement statement for a period, from the ledger (its staff only).
#[utoipa::path(get, path = "/stores/{id}/statement", tag = "orders", params(("id" = Id, Path, description = "The store's id"), Period),
    responses((status = 200, body = Statement), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn statement(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(period): ApiQuery<Period>,
) -> AppResult<Json<Statement>> {
    Ok(Json(
        service::statement(&state, &user, id, period.from, period.to).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AfterSaleRequest {
    pub kind: AfterSaleKind,
    /// 1–200 characters.
    pub reason: String,
}

/// Ask for a refund (paid, not shipped) or a return and refund (shipped); one open per order.
#[utoipa::path(post, path = "/orders/{id}/after-sales", tag = "orders", request_body = AfterSaleRequest,
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 201, body = AfterSale), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn ask_after_sale(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<AfterSaleRequest>,
) -> AppResult<(StatusCode, Json<AfterSale>)> {
    let request = service::ask_after_sale(&state, &user, id, req.kind, &req.reason).await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// An order's after-sales requests, newest first (its buyer and its store's staff).
#[utoipa::path(get, path = "/orders/{id}/after-sales", tag = "orders",
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Vec<AfterSale>), (status = 403, body = Problem)))]
async fn after_sales(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Vec<AfterSale>>> {
    Ok(Json(service::after_sales(&state, &user, id).await?))
}

/// Approve a request (the store's staff): the buyer is refunded through the payment provider.
#[utoipa::path(post, path = "/after-sales/{id}/approve", tag = "orders",
    params(("id" = Id, Path, description = "The request's id")),
    responses((status = 200, body = AfterSale), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn approve_after_sale(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<AfterSale>> {
    Ok(Json(
        crate::payments::after_sales::approve_after_sale(&state, &user, id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct Rejection {
    /// Why, 1–200 characters; the buyer sees it.
    pub answer: String,
}

/// Reject a request with a reason (the store's staff).
#[utoipa::path(post, path = "/after-sales/{id}/reject", tag = "orders", request_body = Rejection,
    params(("id" = Id, Path, description = "The request's id")),
    responses((status = 200, body = AfterSale), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn reject_after_sale(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<Rejection>,
) -> AppResult<Json<AfterSale>> {
    Ok(Json(
        crate::payments::after_sales::reject_after_sale(&state, &user, id, &req.answer).await?,
    ))
}

/// Review an item of one's order after delivery (`position`: the item's place in the order,
/// from 0); once per item.
#[utoipa::path(post, path = "/orders/{id}/items/{position}/review", tag = "orders", request_body = ReviewDraft,
    params(("id" = Id, Path, description = "The order's id"), ("position" = usize, Path, description = "The item, from 0")),
    responses((status = 201, body = Review), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn review(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((id, position)): ApiPath<(Id, usize)>,
    ApiJson(draft): ApiJson<ReviewDraft>,
) -> AppResult<(StatusCode, Json<Review>)> {
    let review = service::review(&state, &user, id, position, &draft).await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// A product's reviews, newest first; every one is a verified purchase.
#[utoipa::path(get, path = "/products/{id}/reviews", tag = "orders",
    params(("id" = Id, Path, description = "The product's id"), PageRequest),
    responses((status = 200, body = Page<Review>)))]
async fn product_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Review>>> {
    Ok(Json(service::reviews(&state, id, &page).await?))
}

/// What the caller has earned in commissions on sales from their notes.
#[utoipa::path(get, path = "/me/earnings", tag = "orders",
    responses((status = 200, body = Earnings), (status = 401, body = Problem)))]
async fn earnings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Earnings>> {
    Ok(Json(service::earnings(&state, &user).await?))
}

/// The caller's saved addresses, newest first.
#[utoipa::path(get, path = "/me/addresses", tag = "orders",
    responses((status = 200, body = Vec<Address>), (status = 401, body = Problem)))]
async fn addresses(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Vec<Address>>> {
    Ok(Json(service::addresses(&state, &user).await?))
}

/// Save an address.
#[utoipa::path(post, path = "/me/addresses", tag = "orders", request_body = AddressDraft,
    responses((status = 201, body = Address), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn add_address(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(draft): ApiJson<AddressDraft>,
) -> AppResult<(StatusCode, Json<Address>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::add_address(&state, &user, &draft).await?),
    ))
}

/// Delete a saved address (orders keep the address they were sent to).
#[utoipa::path(delete, path = "/me/addresses/{id}", tag = "orders",
    params(("id" = Id, Path, description = "The address's id")),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_address(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::delete_address(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's cart, grouped by store.
#[utoipa::path(get, path = "/me/cart", tag = "orders",
    responses((status = 200, body = Vec<CartItem>), (status = 401, body = Problem)))]
async fn cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Vec<CartItem>>> {
    Ok(Json(service::cart(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Quantity {
    /// 1–999.
    pub quantity: i64,
    /// The note the product was found in (it must tag the product).
    #[serde(default)]
    pub note_id: Option<Id>,
}

/// Put a SKU in the cart with this quantity.
#[utoipa::path(put, path = "/me/cart/{sku_id}", tag = "orders", request_body = Quantity,
    params(("sku_id" = Id, Path, description = "The SKU's id")),
    responses((status = 200, body = Vec<CartItem>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_in_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(sku_id): ApiPath<Id>,
    ApiJson(req): ApiJson<Quantity>,
) -> AppResult<Json<Vec<CartItem>>> {
    let line = LineRequest {
        sku_id,
        quantity: req.quantity,
        note_id: req.note_id,
    };
    Ok(Json(service::put_in_cart(&state, &user, &line).await?))
}

/// Take a SKU out of the cart.
#[utoipa::path(delete, path = "/me/cart/{sku_id}", tag = "orders",
    params(("sku_id" = Id, Path, description = "The SKU's id")),
    responses((status = 200, body = Vec<CartItem>)))]
async fn remove_from_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(sku_id): ApiPath<Id>,
) -> AppResult<Json<Vec<CartItem>>> {
    Ok(Json(
        service::remove_from_cart(&state, &user, sku_id).await?,
    ))
}

/// Buy: one order per store, stock reserved until payment. Requires an `Idempotency-Key`
/// header: repeating the request with the same key returns the same orders (200) instead of
/// making new ones (201).
#[utoipa::path(post, path = "/checkout", tag = "orders", request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "Chosen by the client, once per checkout")),
    responses((status = 201, body = Vec<Order>), (status = 200, body = Vec<Order>), (status = 400, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn checkout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CheckoutRequest>,
) -> AppResult<(StatusCode, Json<Vec<Order>>)> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::BadRequest("send an Idempotency-Key header".into()))?;
    let (new, orders) = service::checkout(&state, &user, key, &req).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(orders)))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/me/orders", tag = "orders", params(PageRequest),
    responses((status = 200, body = Page<Order>), (status = 401, body = Problem)))]
async fn my_orders(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<Order>>> {
    Ok(Json(service::my_orders(&state, &user, &page).await?))
}

/// An order with its items and timeline (its buyer and its store's staff only).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Order>> {
    Ok(Json(service::order(&state, &user, id).await?))
}

/// Cancel an unpaid order (its buyer or store); its stock goes back on sale.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders",
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn cancel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Order>> {
    Ok(Json(service::cancel(&state, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
}

/// Ship a paid order (its store's staff only).
#[utoipa::path(post, path = "/orders/{id}/ship", tag = "orders", request_body = Shipment,
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn ship(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<Shipment>,
) -> AppResult<Json<Order>> {
    Ok(Json(
        service::ship(&state, &user, id, &req.carrier, &req.tracking_number).await?,
    ))
}

/// Record that the carrier delivered the order (its store's staff only).
#[utoipa::path(post, path = "/orders/{id}/deliver", tag = "orders",
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn deliver(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Order>> {
    Ok(Json(service::deliver(&state, &user, id).await?))
}

/// Confirm receipt (the buyer): the order completes and the store is credited.
#[utoipa::path(post, path = "/orders/{id}/confirm", tag = "orders",
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn confirm(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Order>> {
    Ok(Json(service::confirm(&state, &user, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoreOrderParams {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// `true`: only orders with an after-sales request awaiting the store's answer.
    #[serde(default)]
    pub after_sales: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// A store's orders, newest first (its staff only).
#[utoipa::path(get, path = "/stores/{id}/orders", tag = "orders",
    params(("id" = Id, Path, description = "The store's id"), StoreOrderParams),
    responses((status = 200, body = Page<Order>), (status = 403, body = Problem)))]
async fn store_orders(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<StoreOrderParams>,
) -> AppResult<Json<Page<Order>>> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: params.limit,
    };
    Ok(Json(
        service::store_orders(&state, &user, id, params.status, params.after_sales, &page).await?,
    ))
}
