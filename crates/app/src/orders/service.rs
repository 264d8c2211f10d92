//! The rules of buying: addresses, the cart, checkout with stock reservation and idempotency
//! keys, an order's life from payment to completion, and the money it moves on completion.

use std::collections::{BTreeMap, HashMap};

use ::store::Tx;
use kernel::{Currency, Id, Page, PageRequest, Timestamp};
use ledger::{Transfer, TransferKind};
use sha2::{Digest, Sha256};

use super::store::{self, Orders};
use super::types::{
    Address, AddressDraft, AfterSale, AfterSaleKind, AfterSaleStatus, CartItem, CheckoutRequest,
    LineRequest, Order, OrderEvent, OrderItem, OrderStatus, Review, ReviewDraft,
};
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::service::ensure_account;
use crate::ledger::types::{AccountKind, TransferCode};
use crate::shop::service as shop;
use crate::shop::types::{in_range, MAX_QUANTITY};
use crate::state::AppState;
use crate::web::page_bounds;

/// Lines one checkout may hold.
const MAX_LINES: usize = 100;

pub async fn add_address(
    state: &AppState,
    user: &User,
    draft: &AddressDraft,
) -> AppResult<Address> {
    let address = Address {
        id: state.ids.next_id(),
        to: draft.parse()?,
        created_at: Timestamp::now(),
    };
    store::insert_address(&state.db, user.id, &address).await?;
    Ok(address)
}

pub async fn addresses(state: &AppState, user: &User) -> AppResult<Vec<Address>> {
    Ok(store::addresses(&state.db, user.id).await?)
}

pub async fn delete_address(state: &AppState, user: &User, id: Id) -> AppResult<()> {
    match store::delete_address(&state.db, user.id, id).await? {
        true => Ok(()),
        false => Err(AppError::NotFound("address")),
    }
}

/// Puts a SKU in the cart with this quantity; it must be on sale.
pub async fn put_in_cart(
    state: &AppState,
    user: &User,
    line: &LineRequest,
) -> AppResult<Vec<CartItem>> {
    in_range("quantity", line.quantity, 1, MAX_QUANTITY).map_err(one)?;
    let product = crate::shop::store::product_of_sku(&state.db, line.sku_id)
        .await?
        .ok_or(AppError::NotFound("sku"))?;
    shop::product(state, None, product).await?;
    if let Some(note) = line.note_id {
        if store::tagged_by(&state.db, note, product).await?.is_none() {
            return Err(one(FieldError::new("note_id", "does not tag this product")));
        }
    }
    store::put_in_cart(&state.db, user.id, line, Timestamp::now()).await?;
    cart(state, user).await
}

pub async fn remove_from_cart(state: &AppState, user: &User, sku: Id) -> AppResult<Vec<CartItem>> {
    let mut tx = state.db.begin_write().await?;
    store::remove_from_cart(&mut tx, user.id, &[sku]).await?;
    tx.commit().await?;
    cart(state, user).await
}

pub async fn cart(state: &AppState, user: &User) -> AppResult<Vec<CartItem>> {
    Ok(store::cart(&state.db, user.id).await?)
}

fn one(error: FieldError) -> AppError {
    AppError::Validation(vec![error])
}

/// An idempotency key: 1–100 visible ASCII characters.
fn parse_key(key: &str) -> AppResult<&str> {
    let valid = (1..=100).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    valid.then_some(key).ok_or_else(|| {
        AppError::BadRequest(
            "the Idempotency-Key header must be 1 to 100 visible ASCII characters".into(),
        )
    })
}

/// Checks the lines of a checkout: 1–100 of them, each SKU once, quantities 1–999.
fn check_lines(lines: &[LineRequest]) -> AppResult<()> {
    let mut errors = Vec::new();
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "items",
            format!("must hold 1 to {MAX_LINES} lines"),
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if let Err(e) = in_range(
            &format!("items[{i}].quantity"),
            line.quantity,
            1,
            MAX_QUANTITY,
        ) {
            errors.push(e);
        }
        if lines[..i].iter().any(|l| l.sku_id == line.sku_id) {
            errors.push(FieldError::new(
                format!("items[{i}].sku_id"),
                "is listed twice",
            ));
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(AppError::Validation(errors)),
    }
}

/// Turns the buyer's items into one order per store, reserving their stock, all in one
/// transaction. The same `key` with the same request gives back the orders it made the first
/// time (`false`: nothing new was made); with a different request it is refused.
pub async fn checkout(
    state: &AppState,
    buyer: &User,
    key: &str,
    request: &CheckoutRequest,
) -> AppResult<(bool, Vec<Order>)> {
    let key = parse_key(key)?;
    let hash = request_hash(request);
    if let Some(orders) = earlier_checkout(state, buyer, key, &hash).await? {
        return Ok((false, orders));
    }
    check_lines(&request.items)?;
    let address = store::address(&state.db, buyer.id, request.address_id)
        .await?
        .ok_or_else(|| {
            one(FieldError::new(
                "address_id",
                "is not one of your addresses",
            ))
        })?;
    let now = Timestamp::now();
    let checkout = state.ids.next_id();
    let orders = plan_orders(state, buyer, checkout, &address.to, &request.items, now).await?;
    let mut tx = state.db.begin_write().await?;
    if !store::insert_checkout(&mut tx, checkout, buyer.id, key, &hash, now).await? {
        drop(tx);
        return match earlier_checkout(state, buyer, key, &hash).await? {
            Some(orders) => Ok((false, orders)),
            None => Err(AppError::Conflict(
                "Idempotency-Key",
                "a checkout with this key is still being made; try again".into(),
            )),
        };
    }
    hold_within_limits(state, &mut tx, buyer, &orders).await?;
    for (i, line) in request.items.iter().enumerate() {
        if !store::reserve(&mut tx, line.sku_id, line.quantity).await? {
            let left = store::stock(&mut tx, line.sku_id).await?;
            return Err(AppError::Conflict(
                "items",
                format!("items[{i}]: only {left} left"),
            ));
        }
    }
    for order in &orders {
        store::insert_order(&mut tx, order).await?;
        for event in &order.timeline {
            store::insert_event(&mut tx, order.id, state.ids.next_id(), event).await?;
        }
        let change = Change::OrderMoved {
            order: order.id,
            status: order.status,
        };
        state.changes.record(&mut tx, change).await?;
    }
    let skus: Vec<Id> = request.items.iter().map(|l| l.sku_id).collect();
    store::remove_from_cart(&mut tx, buyer.id, &skus).await?;
    state.changes.commit(tx).await?;
    Ok((true, orders))
}

/// Refuses a checkout that would leave the buyer holding more unpaid orders or units than one
/// member may (stock held unpaid is stock nobody else can buy). Read in the checkout's write
/// transaction, so two checkouts at once cannot both pass.
async fn hold_within_limits(
    state: &AppState,
    tx: &mut Tx,
    buyer: &User,
    orders: &[Order],
) -> AppResult<()> {
    let limits = &state.config.limits;
    let (held_orders, held_units) = store::unpaid_held(tx, buyer.id).await?;
    let new_units: i64 = orders
        .iter()
        .flat_map(|o| &o.items)
        .map(|i| i.quantity)
        .sum();
    if held_orders + orders.len() as i64 > limits.unpaid_orders
        || held_units + new_units > limits.unpaid_units
    {
        return Err(AppError::Conflict(
            "items",
            format!(
                "you hold {held_orders} unpaid orders with {held_units} units; at most {} orders \
                 and {} units may wait for payment at once: pay or cancel some first",
                limits.unpaid_orders, limits.unpaid_units
            ),
        ));
    }
    Ok(())
}

fn request_hash(request: &CheckoutRequest) -> String {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}

/// The orders a key already made, if it made any; a different request under it is refused.
async fn earlier_checkout(
    state: &AppState,
    buyer: &User,
    key: &str,
    hash: &str,
) -> AppResult<Option<Vec<Order>>> {
    match store::checkout_by_key(&state.db, buyer.id, key).await? {
        Some((_, earlier)) if earlier != hash => Err(AppError::Conflict(
            "Idempotency-Key",
            "was used for a different checkout".into(),
        )),
        Some((id, _)) => {
            let orders = store::orders(&state.db, &Orders::Checkout(id), None, 100).await?;
            Ok(Some(orders))
        }
        None => Ok(None),
    }
}

/// The orders a checkout will make, priced now: one per store, in the order stores first
/// appear among the lines.
async fn plan_orders(
    state: &AppState,
    buyer: &User,
    checkout: Id,
    ship_to: &AddressDraft,
    lines: &[LineRequest],
    now: Timestamp,
) -> AppResult<Vec<Order>> {
    let skus: Vec<Id> = lines.iter().map(|l| l.sku_id).collect();
    let found = store::for_sale(&state.db, &skus).await?;
    let mut errors = Vec::new();
    let mut by_store: BTreeMap<usize, (Id, Vec<OrderItem>)> = BTreeMap::new();
    let mut first_seen: HashMap<Id, usize> = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(sku) = found.iter().find(|s| s.sku == line.sku_id) else {
            errors.push(FieldError::new(format!("items[{i}].sku_id"), "no such SKU"));
            continue;
        };
        if !sku.on_sale {
            errors.push(FieldError::new(
                format!("items[{i}].sku_id"),
                "is not on sale",
            ));
            continue;
        }
        // Bought from a note: its author earns the commission, unless they bought it themselves.
        let creator = match line.note_id {
            Some(note) => match store::tagged_by(&state.db, note, sku.product).await? {
                Some(author) => (author != buyer.id).then_some(author),
                None => {
                    errors.push(FieldError::new(
                        format!("items[{i}].note_id"),
                        "does not tag this product",
                    ));
                    continue;
                }
            },
            None => None,
        };
        let slot = *first_seen.entry(sku.store).or_insert(i);
        by_store
            .entry(slot)
            .or_insert_with(|| (sku.store, Vec::new()))
            .1
            .push(OrderItem {
                sku_id: sku.sku,
                product_id: sku.product,
                title: sku.title.clone(),
                sku_name: sku.sku_name.clone(),
                unit_price: sku.price,
                quantity: line.quantity,
                note_id: line.note_id,
                creator_id: creator,
                commission_bp: if creator.is_some() {
                    sku.commission_bp
                } else {
                    0
                },
            });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let pay_by = Timestamp::from_millis(
        now.as_millis() + state.config.mall.pay_within_minutes.max(1) * 60_000,
    );
    let mut orders = Vec::new();
    for (store_id, items) in by_store.into_values() {
        let store = shop::get_store(state, store_id).await?;
        let items_total = items
            .iter()
            .try_fold(0i64, |sum, i| {
                sum.checked_add(i.unit_price.checked_mul(i.quantity)?)
            })
            .ok_or_else(|| one(FieldError::new("items", "the total is too large")))?;
        let shipping_fee = store.shipping.fee_for(&ship_to.region, items_total);
        orders.push(Order {
            id: state.ids.next_id(),
            checkout_id: checkout,
            buyer_id: buyer.id,
            store_id,
            store_name: store.name,
            status: OrderStatus::PendingPayment,
            currency: store.currency,
            items_total,
            shipping_fee,
            total: items_total + shipping_fee,
            ship_to: ship_to.clone(),
            carrier: String::new(),
            tracking_number: String::new(),
            pay_by,
            items,
            timeline: vec![OrderEvent {
                status: OrderStatus::PendingPayment,
                detail: "order placed".into(),
                at: now,
            }],
            created_at: now,
            updated_at: now,
        });
    }
    Ok(orders)
}

/// Who is looking at an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Merchant,
}

/// An order as its buyer or its store's staff see it; anyone else is refused.
pub async fn order_for(state: &AppState, viewer: &User, id: Id) -> AppResult<(Order, Party)> {
    let order = store::order(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if order.buyer_id == viewer.id {
        return Ok((order, Party::Buyer));
    }
    match shop::require_staff(state, viewer, order.store_id).await {
        Ok(_) => Ok((order, Party::Merchant)),
        Err(_) => Err(AppError::Forbidden(
            "only the buyer and the store's staff may see this order",
        )),
    }
}

pub async fn order(state: &AppState, viewer: &User, id: Id) -> AppResult<Order> {
    Ok(order_for(state, viewer, id).await?.0)
}

pub async fn my_orders(
    state: &AppState,
    buyer: &User,
    page: &PageRequest,
) -> AppResult<Page<Order>> {
    let (size, before) = page_bounds(page)?;
    let rows = store::orders(&state.db, &Orders::Buyer(buyer.id), before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |o| o.id.as_i64()))
}

/// A store's orders, newest first, optionally in one status (its staff only).
pub async fn store_orders(
    state: &AppState,
    staff: &User,
    store_id: Id,
    status: Option<OrderStatus>,
    after_sales: bool,
    page: &PageRequest,
) -> AppResult<Page<Order>> {
    shop::require_staff(state, staff, store_id).await?;
    let (size, before) = page_bounds(page)?;
    let which = Orders::Store {
        store: store_id,
        status,
        after_sales,
    };
    let rows = store::orders(&state.db, &which, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |o| o.id.as_i64()))
}

/// Moves an order along, once: from one of `from` to `to`, with a line on its timeline. An
/// order in any other status is a conflict (409) saying which status it is in.
pub async fn transition(
    state: &AppState,
    order: &Order,
    from: &[OrderStatus],
    to: OrderStatus,
    detail: &str,
    shipment: Option<(&str, &str)>,
) -> AppResult<()> {
    let now = Timestamp::now();
    let mut tx = state.db.begin_write().await?;
    if !store::move_status(&mut tx, order.id, from, to, shipment, now).await? {
        drop(tx);
        let current = store::order(&state.db, order.id)
            .await?
            .map_or(order.status, |o| o.status);
        return Err(AppError::Conflict(
            "status",
            format!(
                "the order is {} and cannot become {}",
                current.as_str(),
                to.as_str()
            ),
        ));
    }
    moved(state, &mut tx, order.id, to, detail, now).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

/// Inside the caller's transaction: an unpaid order becomes paid by `payment`, the one payment
/// that pays it. False (and nothing written) when the order was not waiting for payment.
pub async fn mark_paid(
    state: &AppState,
    tx: &mut Tx,
    order: Id,
    payment: Id,
    detail: &str,
) -> AppResult<bool> {
    let now = Timestamp::now();
    if !store::pay(tx, order, payment, now).await? {
        return Ok(false);
    }
    moved(state, tx, order, OrderStatus::Paid, detail, now).await?;
    Ok(true)
}

/// What follows an order's move to `to` in the same transaction: its stock, its timeline and
/// the change log.
async fn moved(
    state: &AppState,
    tx: &mut Tx,
    order: Id,
    to: OrderStatus,
    detail: &str,
    now: Timestamp,
) -> AppResult<()> {
    match to {
        OrderStatus::Cancelled | OrderStatus::Refunded => store::release(tx, order).await?,
        OrderStatus::Paid => store::count_sold(tx, order).await?,
        _ => {}
    }
    let event = OrderEvent {
        status: to,
        detail: detail.to_owned(),
        at: now,
    };
    store::insert_event(tx, order, state.ids.next_id(), &event).await?;
    let change = Change::OrderMoved { order, status: to };
    state.changes.record(tx, change).await?;
    Ok(())
}

/// A line on an order's timeline that does not move it, such as news of its refund.
pub async fn add_to_timeline(state: &AppState, order: &Order, detail: String) -> AppResult<()> {
    let event = OrderEvent {
        status: order.status,
        detail,
        at: Timestamp::now(),
    };
    let mut tx = state.db.begin_write().await?;
    store::insert_event(&mut tx, order.id, state.ids.next_id(), &event).await?;
    tx.commit().await?;
    Ok(())
}

/// The buyer or the store cancels an order not yet paid; its stock goes back on sale.
pub async fn cancel(state: &AppState, actor: &User, id: Id) -> AppResult<Order> {
    let (order, party) = order_for(state, actor, id).await?;
    let detail = match party {
        Party::Buyer => "cancelled by the buyer",
        Party::Merchant => "cancelled by the store",
    };
    transition(
        state,
        &order,
        &[OrderStatus::PendingPayment],
        OrderStatus::Cancelled,
        detail,
        None,
    )
    .await?;
    self::order(state, actor, id).await
}

/// The store ships a paid order with the carrier and tracking number.
pub async fn ship(
    state: &AppState,
    staff: &User,
    id: Id,
    carrier: &str,
    tracking: &str,
) -> AppResult<Order> {
    let (order, party) = order_for(state, staff, id).await?;
    if party != Party::Merchant {
        return Err(AppError::Forbidden(
            "only the store's staff may ship an order",
        ));
    }
    let mut fields = crate::accounts::types::Fields::default();
    let carrier = fields.check(crate::accounts::types::parse_line("carrier", carrier, 40));
    let tracking = fields.check(crate::accounts::types::parse_line(
        "tracking_number",
        tracking,
        40,
    ));
    let (carrier, tracking) = fields.finish(carrier.zip(tracking))?;
    let detail = format!("shipped with {carrier}, tracking number {tracking}");
    transition(
        state,
        &order,
        &[OrderStatus::Paid],
        OrderStatus::Shipped,
        &detail,
        Some((&carrier, &tracking)),
    )
    .await?;
    self::order(state, staff, id).await
}

/// The store records that the carrier delivered the order.
pub async fn deliver(state: &AppState, staff: &User, id: Id) -> AppResult<Order> {
    let (order, party) = order_for(state, staff, id).await?;
    if party != Party::Merchant {
        return Err(AppError::Forbidden(
            "only the store's staff may record a delivery",
        ));
    }
    transition(
        state,
        &order,
        &[OrderStatus::Shipped],
        OrderStatus::Delivered,
        "delivered",
        None,
    )
    .await?;
    self::order(state, staff, id).await
}

/// The buyer confirms receipt: the order completes and the money is split. Confirming again
/// changes nothing (and makes sure the split was made).
pub async fn confirm(state: &AppState, buyer: &User, id: Id) -> AppResult<Order> {
    let (order, party) = order_for(state, buyer, id).await?;
    if party != Party::Buyer {
        return Err(AppError::Forbidden("only the buyer may confirm receipt"));
    }
    complete(state, &order, "receipt confirmed by the buyer").await?;
    self::order(state, buyer, id).await
}

/// Completes a shipped or delivered order and splits its money; an order already completed
/// only has its split made sure of.
async fn complete(state: &AppState, order: &Order, detail: &str) -> AppResult<()> {
    let open = store::after_sales_of(&state.db, order.id).await?;
    if open.iter().any(|r| r.status == AfterSaleStatus::Requested) {
        return Err(AppError::Conflict(
            "status",
            "the order has an after-sales request open".into(),
        ));
    }
    if order.status != OrderStatus::Completed {
        let from = [OrderStatus::Shipped, OrderStatus::Delivered];
        transition(state, order, &from, OrderStatus::Completed, detail, None).await?;
    }
    settle(state, order).await
}

/// `amount` × `bp` / 10,000, rounded half up.
/// What the payment provider keeps of a payment.
pub fn channel_fee(state: &AppState, amount: i64) -> i64 {
    basis_points(amount, state.config.mall.channel_fee_bp.clamp(0, 10_000))
}

fn basis_points(amount: i64, bp: i64) -> i64 {
    ((i128::from(amount) * i128::from(bp) + 5_000) / 10_000) as i64
}

/// What an order's money comes to when it completes. The parts add up to the order's total.
pub struct Split {
    /// The store's share.
    pub share: i64,
    /// Hongshu's commission.
    pub commission: i64,
    /// The payment channel's fee, borne by the store.
    pub fee: i64,
    /// Each creator whose note sold an item, and their commission.
    pub creators: Vec<(Id, i64)>,
}

pub async fn split(state: &AppState, order: &Order) -> AppResult<Split> {
    let mall = &state.config.mall;
    let mut commission = 0;
    for (category, total) in store::totals_by_category(&state.db, order.id).await? {
        let rate = mall
            .category_commission_bp
            .get(&category)
            .copied()
            .unwrap_or(mall.commission_bp);
        commission += basis_points(total, rate.clamp(0, 10_000));
    }
    let fee = channel_fee(state, order.total);
    let commission = commission.min(order.total - fee);
    let mut left = order.total - fee - commission;
    let mut creators: Vec<(Id, i64)> = Vec::new();
    for (creator, bp, total) in store::creator_totals(&state.db, order.id).await? {
        let earned = basis_points(total, bp.clamp(0, 8_000)).min(left);
        left -= earned;
        match creators.last_mut() {
            Some((last, sum)) if last.as_i64() == creator => *sum += earned,
            _ => creators.push((Id::from_i64(creator), earned)),
        }
    }
    Ok(Split {
        share: left,
        commission,
        fee,
        creators,
    })
}

/// On completion the buyer's payment leaves clearing: the store's share to its payable, the
/// commission and the recovered channel fee to Hongshu's revenue. One linked batch, each
/// transfer's id chosen once per order, so a repeat moves nothing.
async fn settle(state: &AppState, order: &Order) -> AppResult<()> {
    let split = split(state, order).await?;
    let currency = currency_of(order)?;
    let clearing = ensure_account(state, AccountKind::BuyerPayments, "platform", currency).await?;
    let payable = ensure_account(
        state,
        AccountKind::MerchantPayable,
        &format!("store:{}", order.store_id.as_i64()),
        currency,
    )
    .await?;
    let revenue =
        ensure_account(state, AccountKind::CommissionRevenue, "platform", currency).await?;
    let mut legs = vec![
        (
            "merchant_share".to_owned(),
            payable.id,
            split.share,
            TransferCode::MerchantShare,
        ),
        (
            "platform_commission".to_owned(),
            revenue.id,
            split.commission,
            TransferCode::PlatformCommission,
        ),
        (
            "channel_fee_recovered".to_owned(),
            revenue.id,
            split.fee,
            TransferCode::ChannelFee,
        ),
    ];
    for (creator, amount) in &split.creators {
        let owner = format!("user:{}", creator.as_i64());
        let earnings =
            ensure_account(state, AccountKind::CreatorEarnings, &owner, currency).await?;
        let step = format!("creator_commission:{}", creator.as_i64());
        legs.push((step, earnings.id, *amount, TransferCode::CreatorCommission));
    }
    let mut transfers = Vec::new();
    for (step, credit, amount, code) in legs {
        if amount > 0 {
            let id = store::transfer_id(&state.db, order.id, &step, state.ids.next_id()).await?;
            transfers.push(order_transfer(
                id,
                clearing.id,
                credit,
                amount,
                currency,
                code,
                order,
            ));
        }
    }
    submit_linked(state, transfers).await
}

/// What a creator has earned in commissions and may be paid out, in fen.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Earnings {
    pub currency: String,
    pub balance: i64,
}

pub async fn earnings(state: &AppState, creator: &User) -> AppResult<Earnings> {
    let owner = format!("user:{}", creator.id.as_i64());
    let account = state
        .ledger
        .account_of(AccountKind::CreatorEarnings.code(), &owner, Currency::CNY)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Earnings {
        currency: Currency::CNY.code().to_owned(),
        balance: account.map_or(0, |a| a.balance.credits_posted - a.balance.debits_posted),
    })
}

pub fn currency_of(order: &Order) -> AppResult<Currency> {
    Currency::parse(&order.currency)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("order currency: {e}")))
}

/// A posted transfer about an order (memo: the order id).
pub fn order_transfer(
    id: i64,
    debit: i64,
    credit: i64,
    amount: i64,
    currency: Currency,
    code: TransferCode,
    order: &Order,
) -> Transfer {
    Transfer {
        id,
        debit_account_id: debit,
        credit_account_id: credit,
        amount,
        currency,
        code: code.code(),
        kind: TransferKind::Posted,
        linked: false,
        pending_id: None,
        timeout_seconds: 0,
        memo: format!("order {}", order.id.as_i64()),
    }
}

/// Submits transfers as one linked chain: all of them or none. Transfers made before (a
/// retry) count as done.
pub async fn submit_linked(state: &AppState, mut transfers: Vec<Transfer>) -> AppResult<()> {
    let last = transfers.len().saturating_sub(1);
    for (i, transfer) in transfers.iter_mut().enumerate() {
        transfer.linked = i < last;
    }
    let results = state
        .ledger
        .submit(transfers)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    match results.into_iter().find_map(Result::err) {
        None => Ok(()),
        Some(refused) => Err(AppError::Internal(anyhow::anyhow!(
            "the ledger refused an order's transfer: {refused}"
        ))),
    }
}

/// Unpaid orders past their deadline, oldest first (at most 500).
pub async fn overdue_unpaid(state: &AppState) -> AppResult<Vec<Id>> {
    let now = Timestamp::now();
    Ok(store::overdue(&state.db, OrderStatus::PendingPayment, now, 500).await?)
}

/// Cancels an order that is still unpaid past its deadline; true when it did.
pub async fn cancel_overdue(state: &AppState, id: Id) -> AppResult<bool> {
    let Some(order) = store::order(&state.db, id).await? else {
        return Ok(false);
    };
    let expired = [OrderStatus::PendingPayment];
    let to = OrderStatus::Cancelled;
    Ok(
        transition(state, &order, &expired, to, "not paid in time", None)
            .await
            .is_ok(),
    )
}

/// Completes orders shipped long enough ago; returns how many.
pub async fn complete_overdue(state: &AppState) -> AppResult<usize> {
    let now = Timestamp::now();
    let mut moved = 0;
    let days = state.config.mall.auto_complete_days.max(1);
    let shipped_before = Timestamp::from_millis(now.as_millis() - days * 86_400_000);
    for status in [OrderStatus::Shipped, OrderStatus::Delivered] {
        for id in store::overdue(&state.db, status, shipped_before, 500).await? {
            let Some(order) = store::order(&state.db, id).await? else {
                continue;
            };
            // An order with an after-sales request open waits for its answer.
            if complete(state, &order, "completed automatically")
                .await
                .is_ok()
            {
                moved += 1;
            }
        }
    }
    Ok(moved)
}

/// The buyer reviews an item of their order once it was delivered; each item once.
pub async fn review(
    state: &AppState,
    buyer: &User,
    order: Id,
    position: usize,
    draft: &ReviewDraft,
) -> AppResult<Review> {
    let (order, party) = order_for(state, buyer, order).await?;
    if party != Party::Buyer {
        return Err(AppError::Forbidden("only the buyer may review an order"));
    }
    let item = order
        .items
        .get(position)
        .ok_or(AppError::NotFound("item"))?;
    if !matches!(
        order.status,
        OrderStatus::Delivered | OrderStatus::Completed
    ) {
        return Err(AppError::Conflict(
            "status",
            format!(
                "the order is {}; items are reviewed after delivery",
                order.status.as_str()
            ),
        ));
    }
    let mut fields = crate::accounts::types::Fields::default();
    let rating = fields.check(in_range("rating", draft.rating, 1, 5));
    let body = fields.check(crate::notes::types::parse_text(
        "body",
        &draft.body,
        500,
        false,
    ));
    let media = fields.check(review_media(state, buyer, &draft.media_ids).await?);
    let ((rating, body), media) = fields.finish(rating.zip(body).zip(media))?;
    let review = Review {
        id: state.ids.next_id(),
        product_id: item.product_id,
        buyer: crate::notes::types::Author {
            id: buyer.id,
            handle: buyer.handle.clone(),
            display_name: buyer.display_name.clone(),
        },
        sku_name: item.sku_name.clone(),
        rating,
        body,
        media,
        verified_purchase: true,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin_write().await?;
    if !store::insert_review(&mut tx, &review, order.id, position as i64).await? {
        return Err(AppError::Conflict(
            "item",
            "this item is reviewed already".into(),
        ));
    }
    let change = Change::Reviewed {
        review: review.id,
        order: order.id,
        product: review.product_id,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(review)
}

/// Up to nine of the buyer's own images.
async fn review_media(
    state: &AppState,
    buyer: &User,
    ids: &[Id],
) -> AppResult<Result<Vec<crate::media::types::Media>, FieldError>> {
    if ids.len() > 9 {
        return Ok(Err(FieldError::new("media_ids", "at most 9 images")));
    }
    let owned = crate::media::service::owned(state, buyer.id, ids).await?;
    let ordered: Option<Vec<_>> = ids
        .iter()
        .map(|id| owned.iter().find(|m| m.id == *id).cloned())
        .collect();
    Ok(ordered.ok_or_else(|| FieldError::new("media_ids", "must be images you uploaded")))
}

/// A product's reviews, newest first.
pub async fn reviews(state: &AppState, product: Id, page: &PageRequest) -> AppResult<Page<Review>> {
    let (size, before) = page_bounds(page)?;
    let rows = store::reviews(&state.db, product, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |r| r.id.as_i64()))
}

/// The buyer asks for their money back: refund only while the order is paid and not shipped,
/// return and refund once it was shipped. One open request per order.
pub async fn ask_after_sale(
    state: &AppState,
    buyer: &User,
    order: Id,
    kind: AfterSaleKind,
    reason: &str,
) -> AppResult<AfterSale> {
    let (order, party) = order_for(state, buyer, order).await?;
    if party != Party::Buyer {
        return Err(AppError::Forbidden("only the buyer may ask for a refund"));
    }
    let allowed = match kind {
        AfterSaleKind::RefundOnly => order.status == OrderStatus::Paid,
        AfterSaleKind::ReturnAndRefund => matches!(
            order.status,
            OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Completed
        ),
    };
    if !allowed {
        return Err(AppError::Conflict(
            "kind",
            format!(
                "the order is {}; {} is not possible",
                order.status.as_str(),
                kind.as_str()
            ),
        ));
    }
    let reason = crate::accounts::types::parse_line("reason", reason, 200).map_err(one)?;
    let now = Timestamp::now();
    let request = AfterSale {
        id: state.ids.next_id(),
        order_id: order.id,
        kind,
        status: AfterSaleStatus::Requested,
        reason,
        answer: String::new(),
        amount: order.total,
        created_at: now,
        updated_at: now,
    };
    if !store::insert_after_sale(&state.db, &request).await? {
        return Err(AppError::Conflict(
            "order",
            "the order has an after-sales request open".into(),
        ));
    }
    Ok(request)
}

/// An after-sales request with its order, for the store's staff.
pub async fn for_store(state: &AppState, staff: &User, id: Id) -> AppResult<(AfterSale, Order)> {
    let request = store::after_sale(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("after-sales request"))?;
    let (order, party) = order_for(state, staff, request.order_id).await?;
    if party != Party::Merchant {
        return Err(AppError::Forbidden(
            "only the store's staff answer after-sales requests",
        ));
    }
    if request.status != AfterSaleStatus::Requested {
        return Err(AppError::Conflict(
            "status",
            format!("the request is {} already", request.status.as_str()),
        ));
    }
    Ok((request, order))
}

pub async fn after_sales(state: &AppState, viewer: &User, order: Id) -> AppResult<Vec<AfterSale>> {
    let (order, _) = order_for(state, viewer, order).await?;
    Ok(store::after_sales_of(&state.db, order.id).await?)
}

/// A store's settlement statement for a period, computed from the ledger: what its completed
/// orders sold, what was deducted, what refunds took back, and what Hongshu owes it for the
/// period. `sales − commission − channel_fees − creator_commissions − refunded = payable`, and
/// `payable` is the change of the store's payable account over the period, to the fen.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub currency: String,
    /// Unix milliseconds, the start included and the end not.
    pub from: i64,
    pub to: i64,
    pub orders_completed: i64,
    pub sales: i64,
    pub commission: i64,
    pub channel_fees: i64,
    pub creator_commissions: i64,
    /// The store's share of refunded orders, taken back.
    pub refunded: i64,
    pub payable: i64,
}

pub async fn statement(
    state: &AppState,
    staff: &User,
    store_id: Id,
    from: i64,
    to: i64,
) -> AppResult<Statement> {
    shop::require_staff(state, staff, store_id).await?;
    if from >= to {
        return Err(one(FieldError::new("to", "must be after from")));
    }
    let currency = Currency::CNY;
    let mut statement = Statement {
        currency: currency.code().to_owned(),
        from,
        to,
        orders_completed: 0,
        sales: 0,
        commission: 0,
        channel_fees: 0,
        creator_commissions: 0,
        refunded: 0,
        payable: 0,
    };
    let owner = format!("store:{}", store_id.as_i64());
    let ledger_error = |e: ledger::LedgerError| AppError::Internal(e.into());
    let Some(payable) = state
        .ledger
        .account_of(AccountKind::MerchantPayable.code(), &owner, currency)
        .await
        .map_err(ledger_error)?
    else {
        return Ok(statement);
    };
    // Transfer ids are taken a moment before the transfer is made; a day's margin covers retries.
    let oldest_id = Id::first_at(from - 86_400_000).as_i64();
    let mut before = None;
    let mut shares = Vec::new();
    'pages: loop {
        let page = state
            .ledger
            .history(payable.id, before, 500)
            .await
            .map_err(ledger_error)?;
        let Some(last) = page.last() else { break };
        before = Some(last.transfer.id);
        for made in &page {
            let transfer = &made.transfer;
            if transfer.id < oldest_id {
                break 'pages;
            }
            if made.created_at < from || made.created_at >= to {
                continue;
            }
            if transfer.credit_account_id == payable.id {
                statement.payable += transfer.amount;
                if transfer.code == TransferCode::MerchantShare.code() {
                    shares.push(transfer.clone());
                }
            } else {
                statement.payable -= transfer.amount;
                statement.refunded += transfer.amount;
            }
        }
    }
    for page in shares.chunks(500) {
        add_completed_orders(state, &mut statement, page).await?;
    }
    Ok(statement)
}

/// Adds orders whose share reached the store to the statement: their sales and deductions,
/// read back from the other transfers of their completion, two queries for the lot.
async fn add_completed_orders(
    state: &AppState,
    statement: &mut Statement,
    shares: &[Transfer],
) -> AppResult<()> {
    let completed: Vec<(i64, i64)> = shares
        .iter()
        .filter_map(|share| {
            let order = share.memo.strip_prefix("order ")?.parse().ok()?;
            Some((order, share.amount))
        })
        .collect();
    statement.orders_completed += completed.len() as i64;
    statement.sales += completed.iter().map(|(_, amount)| amount).sum::<i64>();
    let orders: Vec<i64> = completed.iter().map(|(order, _)| *order).collect();
    let steps = store::transfer_steps_of(&state.db, &orders).await?;
    let deductions: HashMap<i64, &str> = steps
        .iter()
        .filter(|(_, step, _)| {
            step == "platform_commission"
                || step == "channel_fee_recovered"
                || step.starts_with("creator_commission")
        })
        .map(|(_, step, id)| (*id, step.as_str()))
        .collect();
    let ids: Vec<i64> = deductions.keys().copied().collect();
    let made = state
        .ledger
        .transfers(&ids)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    for made in made {
        let Some(step) = deductions.get(&made.transfer.id) else {
            continue;
        };
        let part = match *step {
            "platform_commission" => &mut statement.commission,
            "channel_fee_recovered" => &mut statement.channel_fees,
            _ => &mut statement.creator_commissions,
        };
        *part += made.transfer.amount;
        statement.sales += made.transfer.amount;
    }
    Ok(())
}
