//! Every movement of an order's money, each path one function: a payment received, an order
//! completed, a refund taken back and paid out. Orders and payments call these; the accounts
//! are named by typed [`Owner`]s and the transfers by typed [`Step`]s, each made once per order
//! (a repeat finds its transfer id chosen and moves nothing), and the transfers of one call are
//! linked: all of them or none.

use std::collections::HashMap;

use kernel::{Currency, Id};
use ledger::{Account, Transfer, TransferKind};

use super::service::ensure_account;
use super::store;
use super::types::{AccountKind, Owner, Part, Step, TransferCode};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The order whose money moves: every transfer's memo names it, and its steps' transfer ids
/// are kept under it.
#[derive(Debug, Clone, Copy)]
pub struct OrderBook {
    pub order: Id,
    pub currency: Currency,
}

/// The memo of a transfer about an order.
fn memo(order: Id) -> String {
    format!("order {}", order.as_i64())
}

/// The order a transfer is about, read from its memo.
pub fn order_of(transfer: &Transfer) -> Option<Id> {
    let id = transfer.memo.strip_prefix("order ")?.parse().ok()?;
    Some(Id::from_i64(id))
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

/// A payment of the order came in: from the provider's cash into clearing, and what the
/// provider kept from clearing's side into channel fees.
pub async fn payment_received(
    state: &AppState,
    book: OrderBook,
    payment: Id,
    provider: &str,
    amount: i64,
    fee: i64,
) -> AppResult<()> {
    let cash = provider_cash(state, book, provider).await?;
    let clearing = account(state, book, AccountKind::BuyerPayments, Owner::Platform).await?;
    let fees = account(state, book, AccountKind::ChannelFees, Owner::Platform).await?;
    let legs = vec![
        Leg {
            step: Step::Received { payment },
            debit: cash.id,
            credit: clearing.id,
            amount,
            code: TransferCode::OrderPayment,
        },
        Leg {
            step: Step::ProviderFee { payment },
            debit: fees.id,
            credit: cash.id,
            amount: fee,
            code: TransferCode::ChannelFee,
        },
    ];
    post(state, book, legs).await
}

/// The order completed: its payment leaves clearing, the store's share to its payable, the
/// commission and the recovered channel fee to Hongshu's revenue, each creator's commission to
/// their earnings.
pub async fn order_completed(
    state: &AppState,
    book: OrderBook,
    store: Id,
    split: &Split,
) -> AppResult<()> {
    let clearing = account(state, book, AccountKind::BuyerPayments, Owner::Platform).await?;
    let payable = account(
        state,
        book,
        AccountKind::MerchantPayable,
        Owner::Store(store),
    )
    .await?;
    let revenue = account(state, book, AccountKind::CommissionRevenue, Owner::Platform).await?;
    let mut parts = vec![
        (Part::MerchantShare, payable.id, split.share),
        (Part::PlatformCommission, revenue.id, split.commission),
        (Part::ChannelFeeRecovered, revenue.id, split.fee),
    ];
    for (creator, amount) in &split.creators {
        let owner = Owner::User(*creator);
        let earnings = account(state, book, AccountKind::CreatorEarnings, owner).await?;
        parts.push((Part::CreatorCommission(*creator), earnings.id, *amount));
    }
    let legs = parts
        .into_iter()
        .map(|(part, credit, amount)| Leg {
            step: Step::Completion(part),
            debit: clearing.id,
            credit,
            amount,
            code: part.transfer_code(),
        })
        .collect();
    post(state, book, legs).await
}

/// A refund of one of the order's payments takes its money back into refunds payable. For the
/// payment that paid the order (`whole_order`) of an order that completed, it reverses exactly
/// what the completion moved (a creator's commission is clawed back); otherwise the money comes
/// from clearing.
pub async fn refund_taken_back(
    state: &AppState,
    book: OrderBook,
    payment: Id,
    amount: i64,
    whole_order: bool,
) -> AppResult<()> {
    let refunds = account(state, book, AccountKind::RefundsPayable, Owner::Platform).await?;
    let mut legs = Vec::new();
    if whole_order {
        for (part, made) in completion(state, book.order).await? {
            legs.push(Leg {
                step: Step::TakenBack { payment, part },
                debit: made.credit_account_id,
                credit: refunds.id,
                amount: made.amount,
                code: part.clawback_code(),
            });
        }
    }
    if legs.is_empty() {
        let clearing = account(state, book, AccountKind::BuyerPayments, Owner::Platform).await?;
        legs.push(Leg {
            step: Step::TakenFromClearing { payment },
            debit: clearing.id,
            credit: refunds.id,
            amount,
            code: TransferCode::Refund,
        });
    }
    post(state, book, legs).await
}

/// The provider paid a refund out: the money leaves refunds payable with it.
pub async fn refund_paid_out(
    state: &AppState,
    book: OrderBook,
    payment: Id,
    provider: &str,
    amount: i64,
) -> AppResult<()> {
    let refunds = account(state, book, AccountKind::RefundsPayable, Owner::Platform).await?;
    let cash = provider_cash(state, book, provider).await?;
    let leg = Leg {
        step: Step::PaidOut { payment },
        debit: refunds.id,
        credit: cash.id,
        amount,
        code: TransferCode::Refund,
    };
    post(state, book, vec![leg]).await
}

/// What a creator has earned in commissions and not been paid, in fen.
pub async fn creator_earnings(state: &AppState, creator: Id, currency: Currency) -> AppResult<i64> {
    let owner = Owner::User(creator);
    let account = existing(state, AccountKind::CreatorEarnings, &owner, currency).await?;
    Ok(account.map_or(0, |a| a.balance.credits_posted - a.balance.debits_posted))
}

/// A store's payable account, once it has one.
pub async fn store_payable(
    state: &AppState,
    store: Id,
    currency: Currency,
) -> AppResult<Option<Account>> {
    existing(
        state,
        AccountKind::MerchantPayable,
        &Owner::Store(store),
        currency,
    )
    .await
}

/// The deductions from several completed orders' money (every completion part but the store's
/// share), as the ledger made them: `(part, transfer)`.
pub async fn deductions(state: &AppState, orders: &[Id]) -> AppResult<Vec<(Part, Transfer)>> {
    let parts: HashMap<i64, Part> = store::steps_of(&state.db, orders)
        .await?
        .into_iter()
        .filter_map(|(_, step, id)| match step {
            Step::Completion(part) if part != Part::MerchantShare => Some((id, part)),
            _ => None,
        })
        .collect();
    let ids: Vec<i64> = parts.keys().copied().collect();
    let made = state.ledger.transfers(&ids).await.map_err(internal)?;
    Ok(made
        .into_iter()
        .filter_map(|made| Some((*parts.get(&made.transfer.id)?, made.transfer)))
        .collect())
}

/// The transfers the order's completion made, by part (none if it did not complete).
async fn completion(state: &AppState, order: Id) -> AppResult<Vec<(Part, Transfer)>> {
    let mut found = Vec::new();
    for (_, step, id) in store::steps_of(&state.db, &[order]).await? {
        let Step::Completion(part) = step else {
            continue;
        };
        if let Some(made) = state.ledger.transfer(id).await.map_err(internal)? {
            found.push((part, made.transfer));
        }
    }
    Ok(found)
}

impl Part {
    fn transfer_code(self) -> TransferCode {
        match self {
            Part::MerchantShare => TransferCode::MerchantShare,
            Part::PlatformCommission => TransferCode::PlatformCommission,
            Part::ChannelFeeRecovered => TransferCode::ChannelFee,
            Part::CreatorCommission(_) => TransferCode::CreatorCommission,
        }
    }

    fn clawback_code(self) -> TransferCode {
        match self {
            Part::CreatorCommission(_) => TransferCode::CommissionClawback,
            _ => TransferCode::Refund,
        }
    }
}

/// One transfer of a money path, before its id is chosen.
struct Leg {
    step: Step,
    debit: i64,
    credit: i64,
    amount: i64,
    code: TransferCode,
}

/// Makes a path's transfers (those of an amount) as one linked chain, each under the id its
/// step chose once. Transfers made before (a retry) count as done.
async fn post(state: &AppState, book: OrderBook, legs: Vec<Leg>) -> AppResult<()> {
    let mut transfers = Vec::new();
    for leg in legs.into_iter().filter(|leg| leg.amount > 0) {
        let fresh = state.ids.next_id();
        let id = store::transfer_id(&state.db, book.order, leg.step, fresh).await?;
        transfers.push(Transfer {
            id,
            debit_account_id: leg.debit,
            credit_account_id: leg.credit,
            amount: leg.amount,
            currency: book.currency,
            code: leg.code.code(),
            kind: TransferKind::Posted,
            linked: false,
            pending_id: None,
            timeout_seconds: 0,
            memo: memo(book.order),
        });
    }
    let last = transfers.len().saturating_sub(1);
    for (i, transfer) in transfers.iter_mut().enumerate() {
        transfer.linked = i < last;
    }
    let results = state.ledger.submit(transfers).await.map_err(internal)?;
    match results.into_iter().find_map(Result::err) {
        None => Ok(()),
        Some(refused) => Err(AppError::Internal(anyhow::anyhow!(
            "the ledger refused an order's transfer: {refused}"
        ))),
    }
}

async fn account(
    state: &AppState,
    book: OrderBook,
    kind: AccountKind,
    owner: Owner,
) -> AppResult<Account> {
    ensure_account(state, kind, &owner, book.currency).await
}

async fn provider_cash(state: &AppState, book: OrderBook, provider: &str) -> AppResult<Account> {
    let owner = Owner::Provider(provider.to_owned());
    account(state, book, AccountKind::ProviderCash, owner).await
}

async fn existing(
    state: &AppState,
    kind: AccountKind,
    owner: &Owner,
    currency: Currency,
) -> AppResult<Option<Account>> {
    let owner = owner.to_string();
    state
        .ledger
        .account_of(kind.code(), &owner, currency)
        .await
        .map_err(internal)
}

fn internal(e: ledger::LedgerError) -> AppError {
    AppError::Internal(e.into())
}
