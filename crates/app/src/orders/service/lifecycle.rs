//! An order's life: every move goes through one compare-and-set on its status, with its
//! timeline line and its change-log entry in the same transaction.

use super::*;

/// Moves an order along, once: from one of `from` to `to`, with a line on its timeline. An
/// order in any other status is a conflict (409) saying which status it is in.
pub async fn transition(
    state: &AppState,
    order: &Order,
    from: &[OrderStatus],
    to: OrderStatus,
    happening: Happening,
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
    moved(state, &mut tx, order.id, to, happening, now).await?;
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
    happening: Happening,
) -> AppResult<bool> {
    let now = Timestamp::now();
    if !store::pay(tx, order, payment, now).await? {
        return Ok(false);
    }
    moved(state, tx, order, OrderStatus::Paid, happening, now).await?;
    Ok(true)
}

/// What follows an order's move to `to` in the same transaction: its stock, its timeline and
/// the change log.
pub(super) async fn moved(
    state: &AppState,
    tx: &mut Tx,
    order: Id,
    to: OrderStatus,
    happening: Happening,
    now: Timestamp,
) -> AppResult<()> {
    match to {
        OrderStatus::Cancelled | OrderStatus::Refunded => store::release(tx, order).await?,
        OrderStatus::Paid => store::count_sold(tx, order).await?,
        _ => {}
    }
    let event = OrderEvent::new(to, happening, now);
    store::insert_event(tx, order, state.ids.next_id(), &event).await?;
    let change = Change::OrderMoved { order, status: to };
    state.changes.record(tx, change).await?;
    Ok(())
}

/// A line on an order's timeline that does not move it, such as news of its refund.
pub async fn add_to_timeline(
    state: &AppState,
    order: &Order,
    happening: Happening,
) -> AppResult<()> {
    let event = OrderEvent::new(order.status, happening, Timestamp::now());
    let mut tx = state.db.begin_write().await?;
    store::insert_event(&mut tx, order.id, state.ids.next_id(), &event).await?;
    tx.commit().await?;
    Ok(())
}

/// The buyer or the store cancels an order not yet paid; its stock goes back on sale.
pub async fn cancel(state: &AppState, actor: &User, id: Id) -> AppResult<Order> {
    let (order, party) = order_for(state, actor, id).await?;
    let happening = match party {
        Party::Buyer => Happening::CancelledByBuyer,
        Party::Merchant => Happening::CancelledByStore,
    };
    transition(
        state,
        &order,
        &[OrderStatus::PendingPayment],
        OrderStatus::Cancelled,
        happening,
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
    let happening = Happening::Shipped {
        carrier: carrier.clone(),
        tracking: tracking.clone(),
    };
    transition(
        state,
        &order,
        &[OrderStatus::Paid],
        OrderStatus::Shipped,
        happening,
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
        Happening::Delivered,
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
    complete(state, &order, Happening::ReceiptConfirmed).await?;
    self::order(state, buyer, id).await
}

/// Completes a shipped or delivered order and splits its money; an order already completed
/// only has its split made sure of.
pub(super) async fn complete(
    state: &AppState,
    order: &Order,
    happening: Happening,
) -> AppResult<()> {
    let open = store::after_sales_of(&state.db, order.id).await?;
    if open.iter().any(|r| r.status == AfterSaleStatus::Requested) {
        return Err(AppError::Conflict(
            "status",
            "the order has an after-sales request open".into(),
        ));
    }
    if order.status != OrderStatus::Completed {
        let from = [OrderStatus::Shipped, OrderStatus::Delivered];
        transition(state, order, &from, OrderStatus::Completed, happening, None).await?;
    }
    settle(state, order).await
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
        transition(state, &order, &expired, to, Happening::NotPaidInTime, None)
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
            if complete(state, &order, Happening::CompletedAutomatically)
                .await
                .is_ok()
            {
                moved += 1;
            }
        }
    }
    Ok(moved)
}
