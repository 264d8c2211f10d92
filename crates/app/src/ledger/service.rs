//! The rules of money: who may see and move it, and opening the accounts of the chart.

use kernel::{Currency, Id, Page, PageRequest};
use ledger::audit::{self, CurrencyTotals};
use ledger::{Account, Balance, Outcome, StoredTransfer, Transfer, TransferError};

use super::types::{AccountKind, Owner};
use crate::accounts::service::require_admin;
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The account of a kind that an owner holds in a currency, opened on first use.
pub async fn ensure_account(
    state: &AppState,
    kind: AccountKind,
    owner: &Owner,
    currency: Currency,
) -> AppResult<Account> {
    let owner = &owner.to_string();
    if let Some(account) = state
        .ledger
        .account_of(kind.code(), owner, currency)
        .await
        .map_err(internal)?
    {
        return Ok(account);
    }
    let account = Account {
        id: state.ids.next_id().as_i64(),
        currency,
        code: kind.code(),
        owner: owner.to_owned(),
        flags: kind.flags(),
        balance: Balance::default(),
        created_at: kernel::Timestamp::now().as_millis(),
    };
    // Two requests may race to open the same account: the loser reads the winner's.
    state
        .ledger
        .open_accounts(vec![account])
        .await
        .map_err(internal)?;
    state
        .ledger
        .account_of(kind.code(), owner, currency)
        .await
        .map_err(internal)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("ledger account was not opened")))
}

/// Submits transfers; each one's result, in order. Only for administrators when it comes from
/// the API; domains call the ledger through their own rules.
pub async fn submit(
    state: &AppState,
    actor: &User,
    transfers: Vec<Transfer>,
) -> AppResult<Vec<Result<Outcome, TransferError>>> {
    require_admin(actor)?;
    state.ledger.submit(transfers).await.map_err(internal)
}

pub async fn account(state: &AppState, actor: &User, id: Id) -> AppResult<Account> {
    require_admin(actor)?;
    state
        .ledger
        .account(id.as_i64())
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound("account"))
}

pub async fn history(
    state: &AppState,
    actor: &User,
    id: Id,
    page: &PageRequest,
) -> AppResult<Page<StoredTransfer>> {
    let account = account(state, actor, id).await?;
    let (size, before) = crate::web::page_bounds(page)?;
    let rows = state
        .ledger
        .history(account.id, before, size + 1)
        .await
        .map_err(internal)?;
    Ok(Page::from_rows(rows, size, |t| t.transfer.id))
}

pub async fn transfer(state: &AppState, actor: &User, id: Id) -> AppResult<StoredTransfer> {
    require_admin(actor)?;
    state
        .ledger
        .transfer(id.as_i64())
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound("transfer"))
}

/// Every account with its balances, and the totals per currency that must balance.
pub async fn trial_balance(
    state: &AppState,
    actor: &User,
) -> AppResult<(Vec<CurrencyTotals>, Vec<Account>)> {
    require_admin(actor)?;
    let totals = audit::totals_by_currency(&state.db)
        .await
        .map_err(internal)?;
    let accounts = state.ledger.all_accounts().await.map_err(internal)?;
    Ok((totals, accounts))
}

fn internal(err: ledger::LedgerError) -> AppError {
    AppError::Internal(err.into())
}
