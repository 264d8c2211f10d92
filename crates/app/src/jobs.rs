//! Cluster-wide chores that span domains: cancelling orders left unpaid (after asking the
//! payment providers about them), completing orders shipped long enough ago, and finishing
//! refunds and give-backs that were interrupted.

use std::time::Duration;

use kernel::Timestamp;

use crate::error::AppResult;
use crate::orders::service as orders;
use crate::payments::service as payments;
use crate::state::AppState;

/// Keeps orders and payments moving until the server stops, every 30 seconds.
pub async fn keep_orders_moving(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        if let Err(e) = move_overdue(&state).await {
            tracing::warn!(error = %e, "could not move overdue orders");
        }
        if let Err(e) = payments::follow_up_refunds(&state).await {
            tracing::warn!(error = %e, "could not follow up refunds");
        }
        let settled_before = Timestamp::from_millis(Timestamp::now().as_millis() - 60_000);
        if let Err(e) = payments::finish_unneeded(&state, settled_before).await {
            tracing::warn!(error = %e, "could not give back payments orders did not need");
        }
    }
}

/// One round over overdue orders; returns how many it moved.
pub async fn move_overdue(state: &AppState) -> AppResult<usize> {
    let mut moved = 0;
    for id in orders::overdue_unpaid(state).await? {
        // A payment whose notification was lost is learnt of before the order is cancelled.
        payments::settle_pending(state, id).await;
        if orders::cancel_overdue(state, id).await? {
            moved += 1;
        }
    }
    Ok(moved + orders::complete_overdue(state).await?)
}
