//! A buyer's after-sales requests (the store's answers are payments' `after_sales`).

use super::*;

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
    let mut tx = state.db.begin_write().await?;
    if !store::insert_after_sale(&mut tx, &request).await? {
        return Err(AppError::Conflict(
            "order",
            "the order has an after-sales request open".into(),
        ));
    }
    let change = Change::AfterSaleAsked {
        request: request.id,
        order: order.id,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
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
