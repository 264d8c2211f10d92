//! A store's answer to an after-sales request: a rejection, or an approval that gives the money
//! back through the provider and the ledger and then refunds the order.

use kernel::{Id, Timestamp};

use super::service;
use super::types::RefundProgress;
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult};
use crate::orders::service as orders;
use crate::orders::store as order_store;
use crate::orders::types::AfterSaleStatus::{Refunded, Rejected};
use crate::orders::types::{AfterSale, Happening, OrderStatus};
use crate::state::AppState;

/// The store rejects a request, saying why.
pub async fn reject_after_sale(
    state: &AppState,
    staff: &User,
    id: Id,
    answer: &str,
) -> AppResult<AfterSale> {
    let (request, order) = orders::for_store(state, staff, id).await?;
    let answer = crate::accounts::types::parse_line("answer", answer, 200)
        .map_err(|e| AppError::Validation(vec![e]))?;
    if service::refund_under_way(state, order.id).await? {
        return Err(AppError::Conflict(
            "status",
            "a refund of this order was begun and its outcome is not known; approve the request \
             again to finish it"
                .into(),
        ));
    }
    let mut tx = state.db.begin_write().await?;
    if !order_store::answer_after_sale(&mut tx, id, Rejected, &answer, Timestamp::now()).await? {
        return Err(AppError::Conflict(
            "status",
            "the request was answered meanwhile".into(),
        ));
    }
    let change = Change::AfterSaleAnswered {
        request: id,
        order: order.id,
        approved: false,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(AfterSale {
        status: Rejected,
        answer,
        ..request
    })
}

/// The store approves: the money goes back through the provider and the ledger, the order is
/// refunded and its units return to stock. Approving again after a failure finishes the job.
pub async fn approve_after_sale(state: &AppState, staff: &User, id: Id) -> AppResult<AfterSale> {
    let (request, order) = orders::for_store(state, staff, id).await?;
    let progress = service::refund(state, &order, &request.reason).await?;
    let now = Timestamp::now();
    let mut tx = state.db.begin_write().await?;
    if order_store::answer_after_sale(&mut tx, id, Refunded, "", now).await? {
        let change = Change::AfterSaleAnswered {
            request: id,
            order: order.id,
            approved: true,
        };
        state.changes.record(&mut tx, change).await?;
    }
    state.changes.commit(tx).await?;
    let from = [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
    ];
    let happening = Happening::Refunded {
        reason: request.reason.clone(),
        paying_out: progress == RefundProgress::Processing,
    };
    orders::transition(state, &order, &from, OrderStatus::Refunded, happening, None).await?;
    Ok(AfterSale {
        status: Refunded,
        ..request
    })
}
