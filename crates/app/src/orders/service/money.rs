//! The money an order moves: the split between store, creator and platform, and its transfers
//! through the ledger when the order completes.

use super::*;

/// `amount` × `bp` / 10,000, rounded half up.
/// What the payment provider keeps of a payment.
pub fn channel_fee(state: &AppState, amount: i64) -> i64 {
    basis_points(amount, state.config.mall.channel_fee_bp.clamp(0, 10_000))
}

pub(super) fn basis_points(amount: i64, bp: i64) -> i64 {
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
pub(super) async fn settle(state: &AppState, order: &Order) -> AppResult<()> {
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
