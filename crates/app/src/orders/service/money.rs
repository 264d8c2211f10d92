//! The money an order moves: the split between store, creator and platform, posted through the
//! ledger's postings when the order completes.

use super::*;

/// What the payment provider keeps of a payment.
pub fn channel_fee(state: &AppState, amount: i64) -> i64 {
    basis_points(amount, state.config.mall.channel_fee_bp.clamp(0, 10_000))
}

/// `amount` × `bp` / 10,000, rounded half up.
pub(super) fn basis_points(amount: i64, bp: i64) -> i64 {
    ((i128::from(amount) * i128::from(bp) + 5_000) / 10_000) as i64
}

/// How an order's money splits when it completes.
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

/// On completion the buyer's payment leaves clearing, split between store, creators and
/// Hongshu. A repeat moves nothing.
pub(super) async fn settle(state: &AppState, order: &Order) -> AppResult<()> {
    let split = split(state, order).await?;
    postings::order_completed(state, book(order)?, order.store_id, &split).await
}

/// The order's money as the ledger's postings know it.
pub fn book(order: &Order) -> AppResult<OrderBook> {
    let currency = Currency::parse(&order.currency)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("order currency: {e}")))?;
    Ok(OrderBook {
        order: order.id,
        currency,
    })
}

/// What a creator has earned in commissions and may be paid out, in fen.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Earnings {
    pub currency: String,
    pub balance: i64,
}

pub async fn earnings(state: &AppState, creator: &User) -> AppResult<Earnings> {
    let currency = Currency::CNY;
    Ok(Earnings {
        currency: currency.code().to_owned(),
        balance: postings::creator_earnings(state, creator.id, currency).await?,
    })
}
