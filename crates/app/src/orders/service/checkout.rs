//! Checkout: one order per store, stock reserved and the buyer's idempotency key kept in one
//! transaction, within the buyer's limit of unpaid orders.

use super::*;

/// Lines one checkout may hold.
pub(super) const MAX_LINES: usize = 100;

/// An idempotency key: 1–100 visible ASCII characters.
pub(super) fn parse_key(key: &str) -> AppResult<&str> {
    let valid = (1..=100).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    valid.then_some(key).ok_or_else(|| {
        AppError::BadRequest(
            "the Idempotency-Key header must be 1 to 100 visible ASCII characters".into(),
        )
    })
}

/// Checks the lines of a checkout: 1–100 of them, each SKU once, quantities 1–999.
pub(super) fn check_lines(lines: &[LineRequest]) -> AppResult<()> {
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
pub(super) async fn hold_within_limits(
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

pub(super) fn request_hash(request: &CheckoutRequest) -> String {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}

/// The orders a key already made, if it made any; a different request under it is refused.
pub(super) async fn earlier_checkout(
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
pub(super) async fn plan_orders(
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
            timeline: vec![OrderEvent::new(
                OrderStatus::PendingPayment,
                Happening::Placed,
                now,
            )],
            created_at: now,
            updated_at: now,
        });
    }
    Ok(orders)
}
