//! A store's statement: its completed orders and the money they moved.

use super::*;

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
pub(super) async fn add_completed_orders(
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
