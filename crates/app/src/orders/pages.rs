//! Buying's pages: the cart and checkout, the buyer's orders, an order with its timeline and
//! what its buyer or its store can do next, and a store's orders for its staff.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service::{self, Earnings, Party};
use super::types::{
    Address, AddressDraft, AfterSale, AfterSaleKind, CartItem, CheckoutRequest, LineRequest, Order,
    OrderStatus, ReviewDraft,
};
use crate::accounts::service::random_secret;
use crate::accounts::types::User;
use crate::error::AppResult;
use crate::media::types::Media;
use crate::payments::types::PaymentStatus;
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery, AuthUser, CsrfForm};
use crate::web::pages::{parse_ids, render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cart", get(cart_page).post(add_to_cart))
        .route("/cart/{sku}/remove", post(remove_from_cart))
        .route("/addresses", post(add_address))
        .route("/checkout", post(checkout))
        .route("/orders", get(orders_page))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/{action}", post(order_action))
        .route("/orders/{id}/items/{position}/review", post(review))
        .route("/after-sales/{id}/{answer}", post(answer_after_sale))
        .route("/stores/{id}/orders", get(store_orders_page))
        .route("/earnings", get(earnings_page))
        .route("/stores/{id}/statement", get(statement_page))
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    ctx: PageCtx,
    store: Id,
    statement: service::Statement,
}

#[derive(Deserialize)]
struct StatementParams {
    from: Option<i64>,
    to: Option<i64>,
}

/// A store's statement; by default for the last 30 days.
async fn statement_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(store): ApiPath<Id>,
    ApiQuery(params): ApiQuery<StatementParams>,
) -> AppResult<Response> {
    let to = params
        .to
        .unwrap_or(kernel::Timestamp::now().as_millis() + 1);
    let from = params.from.unwrap_or(to - 30 * 86_400_000);
    let statement = service::statement(&state, &user, store, from, to).await?;
    render(
        StatusCode::OK,
        &StatementPage {
            ctx,
            store,
            statement,
        },
    )
}

#[derive(Template)]
#[template(path = "earnings.html")]
struct EarningsPage {
    ctx: PageCtx,
    earnings: Earnings,
}

async fn earnings_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
) -> AppResult<Response> {
    let earnings = service::earnings(&state, &user).await?;
    render(StatusCode::OK, &EarningsPage { ctx, earnings })
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    ctx: PageCtx,
    items: Vec<CartItem>,
    addresses: Vec<Address>,
    /// This rendering's idempotency key: submitting the page twice places one order.
    key: String,
    /// The address the summary is priced for, and checked in the form.
    ship_to: Option<Id>,
    /// Per store, for that address: (store, items, shipping).
    summary: Vec<(String, i64, i64)>,
}

impl CartPage {
    fn priced_for(&self, address: &Address) -> bool {
        self.ship_to == Some(address.id)
    }

    fn total(&self) -> i64 {
        self.summary
            .iter()
            .map(|(_, items, shipping)| items + shipping)
            .sum()
    }
}

/// What each store's order will cost to the address: its items and its shipping.
async fn price_summary(
    state: &AppState,
    items: &[CartItem],
    to: Option<&Address>,
) -> AppResult<Vec<(String, i64, i64)>> {
    let mut summary: Vec<(Id, String, i64)> = Vec::new();
    for item in items.iter().filter(|i| i.on_sale) {
        let amount = item.price * item.quantity;
        match summary
            .iter_mut()
            .find(|(store, _, _)| *store == item.store_id)
        {
            Some(line) => line.2 += amount,
            None => summary.push((item.store_id, item.store_name.clone(), amount)),
        }
    }
    let region = to.map_or("", |a| a.to.region.as_str());
    let mut priced = Vec::new();
    for (store, name, amount) in summary {
        let shipping = crate::shop::service::get_store(state, store)
            .await?
            .shipping;
        priced.push((name, amount, shipping.fee_for(region, amount)));
    }
    Ok(priced)
}

#[derive(Deserialize)]
struct CartParams {
    /// The saved address to price shipping for; the first one when absent or not the member's.
    address: Option<Id>,
}

async fn cart_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiQuery(params): ApiQuery<CartParams>,
) -> AppResult<Response> {
    let items = service::cart(&state, &user).await?;
    let addresses = service::addresses(&state, &user).await?;
    let chosen = addresses
        .iter()
        .find(|a| Some(a.id) == params.address)
        .or(addresses.first());
    let summary = price_summary(&state, &items, chosen).await?;
    let view = CartPage {
        ship_to: chosen.map(|a| a.id),
        items,
        addresses,
        key: random_secret(),
        summary,
        ctx,
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
struct AddForm {
    sku_id: Id,
    quantity: i64,
    /// The note the product was found in.
    note_id: Option<Id>,
    /// `checkout` goes on to the cart to buy; anything else returns to the product.
    then: Option<String>,
}

async fn add_to_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<Response> {
    let line = LineRequest {
        sku_id: form.sku_id,
        quantity: form.quantity,
        note_id: form.note_id,
    };
    let cart = service::put_in_cart(&state, &user, &line).await?;
    let product = cart
        .iter()
        .find(|i| i.sku_id == form.sku_id)
        .map(|i| i.product_id);
    let target = match (form.then.as_deref(), product) {
        (Some("checkout"), _) | (_, None) => "/cart".to_owned(),
        (_, Some(product)) => format!("/products/{product}"),
    };
    Ok(Redirect::to(&target).into_response())
}

#[derive(Deserialize)]
struct Empty {}

async fn remove_from_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(sku): ApiPath<Id>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    service::remove_from_cart(&state, &user, sku).await?;
    Ok(Redirect::to("/cart").into_response())
}

async fn add_address(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    CsrfForm(draft): CsrfForm<AddressDraft>,
) -> AppResult<Response> {
    service::add_address(&state, &user, &draft).await?;
    Ok(Redirect::to("/cart").into_response())
}

#[derive(Deserialize)]
struct CheckoutForm {
    address_id: Id,
    key: String,
}

/// Places the orders for everything in the cart.
async fn checkout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    CsrfForm(form): CsrfForm<CheckoutForm>,
) -> AppResult<Response> {
    let items = service::cart(&state, &user)
        .await?
        .into_iter()
        .map(|i| LineRequest {
            sku_id: i.sku_id,
            quantity: i.quantity,
            note_id: i.note_id,
        })
        .collect();
    let request = CheckoutRequest {
        address_id: form.address_id,
        items,
    };
    if request.items.is_empty() {
        // Nothing left to buy: most likely this page was submitted twice and the first
        // submission emptied the cart; its orders are on the orders page.
        return Ok(Redirect::to("/orders").into_response());
    }
    let (_, orders) = service::checkout(&state, &user, &form.key, &request).await?;
    let target = match orders.as_slice() {
        [one] => format!("/orders/{}", one.id),
        _ => "/orders".to_owned(),
    };
    Ok(Redirect::to(&target).into_response())
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    ctx: PageCtx,
    title: &'static str,
    /// A store's filters: (label, address, is the current one); none for a buyer.
    tabs: Vec<(&'static str, String, bool)>,
    orders: Vec<Order>,
    /// Who is on the other side of each order: the store for its buyer, the buyer for the
    /// store's staff.
    counterparts: Vec<String>,
    next_cursor: Option<String>,
    /// The filter of this list, kept by its next-page link.
    filter: String,
}

#[derive(Deserialize)]
struct ListParams {
    cursor: Option<String>,
    status: Option<OrderStatus>,
    #[serde(default)]
    after_sales: bool,
}

impl ListParams {
    /// The query string of this list's filter, without the cursor.
    fn filter(&self) -> String {
        match (self.status, self.after_sales) {
            (_, true) => "after_sales=true".to_owned(),
            (Some(status), false) => format!("status={}", status.as_str()),
            (None, false) => String::new(),
        }
    }
}

/// The filters of a store's order list, in the order a merchant works through them.
fn store_tabs(ctx: &PageCtx, store: Id, current: &str) -> Vec<(&'static str, String, bool)> {
    let statuses = [
        OrderStatus::Paid,
        OrderStatus::PendingPayment,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];
    let mut filters = vec![
        (ctx.t.all_orders, String::new()),
        (ctx.t.after_sale_title, "after_sales=true".to_owned()),
    ];
    filters.extend(
        statuses
            .into_iter()
            .map(|s| (ctx.status_text(&s), format!("status={}", s.as_str()))),
    );
    filters
        .into_iter()
        .map(|(label, filter)| {
            let current = filter == current;
            (label, format!("/stores/{store}/orders?{filter}"), current)
        })
        .collect()
}

async fn orders_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Response> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(20),
    };
    let found = service::my_orders(&state, &user, &page).await?;
    let counterparts = found.items.iter().map(|o| o.store_name.clone()).collect();
    let view = OrdersPage {
        title: ctx.t.orders_title,
        ctx,
        tabs: Vec::new(),
        orders: found.items,
        counterparts,
        next_cursor: found.next_cursor,
        filter: String::new(),
    };
    render(StatusCode::OK, &view)
}

/// Each order's buyer by display name, for the store's list.
async fn buyer_names(state: &AppState, orders: &[Order]) -> AppResult<Vec<String>> {
    let ids: Vec<i64> = orders.iter().map(|o| o.buyer_id.as_i64()).collect();
    let buyers = crate::accounts::service::users_by_ids(state, &ids).await?;
    Ok(orders
        .iter()
        .map(|o| {
            buyers
                .iter()
                .find(|b| b.id == o.buyer_id)
                .map_or_else(String::new, |b| b.display_name.clone())
        })
        .collect())
}

async fn store_orders_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(store): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Response> {
    let filter = params.filter();
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(20),
    };
    let found = service::store_orders(
        &state,
        &user,
        store,
        params.status,
        params.after_sales,
        &page,
    )
    .await?;
    let counterparts = buyer_names(&state, &found.items).await?;
    let view = OrdersPage {
        title: ctx.t.store_orders,
        tabs: store_tabs(&ctx, store, &filter),
        ctx,
        orders: found.items,
        counterparts,
        next_cursor: found.next_cursor,
        filter,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    ctx: PageCtx,
    order: Order,
    buyer: bool,
    /// The buyer is back from paying and the order still waits for the provider's word.
    returning: Returning,
    /// Per item: whether the buyer may still review it.
    reviewable: Vec<bool>,
    after_sales: Vec<AfterSale>,
    /// What a review's photo picker starts with.
    no_media: Vec<Media>,
}

/// Where a buyer coming back from a provider stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Returning {
    /// Not back from paying, or the order has moved on.
    No,
    /// The provider has not told Hongshu yet: the page refreshes until it does.
    Confirming,
    /// The provider said the payment failed.
    Failed,
}

#[derive(Deserialize)]
struct OrderParams {
    /// The payment the buyer is back from (`payments::service::return_path`).
    paying: Option<Id>,
}

async fn returning(
    state: &AppState,
    user: &User,
    order: &Order,
    paying: Option<Id>,
) -> AppResult<Returning> {
    let Some(paying) = paying else {
        return Ok(Returning::No);
    };
    if order.status != OrderStatus::PendingPayment {
        return Ok(Returning::No);
    }
    let payment = crate::payments::service::payment(state, user, paying).await?;
    if payment.order_id != order.id {
        return Ok(Returning::No);
    }
    Ok(match payment.status {
        PaymentStatus::Pending | PaymentStatus::Succeeded => Returning::Confirming,
        PaymentStatus::Failed => Returning::Failed,
        PaymentStatus::Refunding | PaymentStatus::RefundFailed | PaymentStatus::Refunded => {
            Returning::No
        }
    })
}

async fn order_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<OrderParams>,
) -> AppResult<Response> {
    let (order, party) = service::order_for(&state, &user, id).await?;
    let returning = match party {
        Party::Buyer => returning(&state, &user, &order, params.paying).await?,
        Party::Merchant => Returning::No,
    };
    let reviewed = super::store::reviewed(&state.db, order.id).await?;
    let delivered = matches!(
        order.status,
        OrderStatus::Delivered | OrderStatus::Completed
    );
    let reviewable = (0..order.items.len())
        .map(|i| party == Party::Buyer && delivered && !reviewed.contains(&(i as i64)))
        .collect();
    let after_sales = super::store::after_sales_of(&state.db, order.id).await?;
    let view = OrderPage {
        ctx,
        order,
        buyer: party == Party::Buyer,
        returning,
        reviewable,
        after_sales,
        no_media: Vec::new(),
    };
    render(StatusCode::OK, &view)
}

#[derive(Deserialize)]
struct ReviewForm {
    rating: i64,
    #[serde(default)]
    body: String,
    /// The photo picker's ids, in order.
    #[serde(default)]
    media_ids: String,
}

async fn review(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((id, position)): ApiPath<(Id, usize)>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> AppResult<Response> {
    let draft = ReviewDraft {
        rating: form.rating,
        body: form.body,
        media_ids: parse_ids(&form.media_ids),
    };
    let review = service::review(&state, &user, id, position, &draft).await?;
    Ok(Redirect::to(&format!("/products/{}", review.product_id)).into_response())
}

#[derive(Deserialize)]
struct ActionForm {
    carrier: Option<String>,
    tracking_number: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct AnswerForm {
    answer: Option<String>,
}

/// The store approves or rejects an after-sales request from the order page.
async fn answer_after_sale(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((id, answer)): ApiPath<(Id, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let request = match answer.as_str() {
        "approve" => crate::payments::after_sales::approve_after_sale(&state, &user, id).await?,
        "reject" => {
            let why = form.answer.unwrap_or_default();
            crate::payments::after_sales::reject_after_sale(&state, &user, id, &why).await?
        }
        _ => return Err(crate::error::AppError::NotFound("page")),
    };
    Ok(Redirect::to(&format!("/orders/{}", request.order_id)).into_response())
}

/// The buttons of the order page: pay, cancel, confirm receipt; ship and mark delivered.
async fn order_action(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((id, action)): ApiPath<(Id, String)>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> AppResult<Response> {
    let back = format!("/orders/{id}");
    match action.as_str() {
        "pay" => {
            let payment = crate::payments::service::start(&state, &user, id, "sandbox").await?;
            return Ok(Redirect::to(&payment.pay_url).into_response());
        }
        "cancel" => drop(service::cancel(&state, &user, id).await?),
        "refund" | "return" => {
            let kind = match action.as_str() {
                "refund" => AfterSaleKind::RefundOnly,
                _ => AfterSaleKind::ReturnAndRefund,
            };
            let reason = form.reason.unwrap_or_default();
            drop(service::ask_after_sale(&state, &user, id, kind, &reason).await?);
        }
        "confirm" => drop(service::confirm(&state, &user, id).await?),
        "deliver" => drop(service::deliver(&state, &user, id).await?),
        "ship" => {
            let carrier = form.carrier.unwrap_or_default();
            let tracking = form.tracking_number.unwrap_or_default();
            drop(service::ship(&state, &user, id, &carrier, &tracking).await?);
        }
        _ => return Err(crate::error::AppError::NotFound("page")),
    }
    Ok(Redirect::to(&back).into_response())
}
