//! Cluster-wide chores that span domains: cancelling orders left unpaid (after asking the
//! payment providers about them), completing orders shipped long enough ago, finishing
//! refunds and give-backs that were interrupted, and removing expired sessions. One node of the
//! cluster runs them at a time (`cluster::run_chores`); each step is a compare-and-set all the
//! same, so a chore that overlapped on two nodes while the lease passed on does nothing twice.

use std::time::Duration;

use kernel::Timestamp;

use crate::accounts;
use crate::error::AppResult;
use crate::orders::service as orders;
use crate::payments::service as payments;
use crate::state::AppState;

/// Keeps orders and payments moving, every `server.chores_every_seconds`.
pub async fn keep_orders_moving(state: AppState) {
    let every = Duration::from_secs(state.config.server.chores_every_seconds.max(1));
    let mut tick = tokio::time::interval(every);
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

/// Removes expired sessions, every ten minutes.
pub async fn keep_removing_expired_sessions(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match accounts::store::delete_expired_tokens(&state.db, Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "removed expired sessions"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}
