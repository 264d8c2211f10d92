//! A store's statement: its completed orders and the money they moved.

use ledger::Transfer;

use super::*;
use crate::ledger::types::TransferCode;

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
    let ledger_error = |e: ledger::LedgerError| AppError::Internal(e.into());
    let Some(payable) = postings::store_payable(state, store_id, currency).await? else {
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
pub(super) async fn add_completed_orders(
    state: &AppState,
    statement: &mut Statement,
    shares: &[Transfer],
) -> AppResult<()> {
    let completed: Vec<(Id, i64)> = shares
        .iter()
        .filter_map(|share| Some((postings::order_of(share)?, share.amount)))
        .collect();
    statement.orders_completed += completed.len() as i64;
    statement.sales += completed.iter().map(|(_, amount)| amount).sum::<i64>();
    let orders: Vec<Id> = completed.iter().map(|(order, _)| *order).collect();
    for (part, made) in postings::deductions(state, &orders).await? {
        let deducted = match part {
            Part::PlatformCommission => &mut statement.commission,
            Part::ChannelFeeRecovered => &mut statement.channel_fees,
            Part::CreatorCommission(_) => &mut statement.creator_commissions,
            Part::MerchantShare => continue,
        };
        *deducted += made.amount;
        statement.sales += made.amount;
    }
    Ok(())
}
