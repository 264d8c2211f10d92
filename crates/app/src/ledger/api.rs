//! Finance API under `/api/v1/admin/ledger` (administrators only).

use axum::extract::State;
use axum::Json;
use kernel::{Currency, Id, Page, PageRequest, Timestamp};
use ledger::audit::CurrencyTotals;
use ledger::{Account, Outcome, StoredTransfer, Transfer, TransferKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::{AccountKind, Owner, TransferCode};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_account))
        .routes(routes!(account))
        .routes(routes!(history))
        .routes(routes!(submit))
        .routes(routes!(transfer))
        .routes(routes!(trial_balance))
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub id: Id,
    /// The account's kind in the chart of accounts.
    pub kind: Option<AccountKind>,
    pub owner: String,
    pub currency: String,
    /// Amounts in minor units (fen, cents).
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
    pub created_at: Timestamp,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            id: Id::from_i64(a.id),
            kind: AccountKind::from_code(a.code),
            owner: a.owner,
            currency: a.currency.code().to_owned(),
            debits_pending: a.balance.debits_pending,
            debits_posted: a.balance.debits_posted,
            credits_pending: a.balance.credits_pending,
            credits_posted: a.balance.credits_posted,
            created_at: Timestamp::from_millis(a.created_at),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum KindView {
    #[default]
    Posted,
    Pending,
    PostPending,
    VoidPending,
}

impl From<KindView> for TransferKind {
    fn from(kind: KindView) -> Self {
        match kind {
            KindView::Posted => TransferKind::Posted,
            KindView::Pending => TransferKind::Pending,
            KindView::PostPending => TransferKind::PostPending,
            KindView::VoidPending => TransferKind::VoidPending,
        }
    }
}

impl From<TransferKind> for KindView {
    fn from(kind: TransferKind) -> Self {
        match kind {
            TransferKind::Posted => KindView::Posted,
            TransferKind::Pending => KindView::Pending,
            TransferKind::PostPending => KindView::PostPending,
            TransferKind::VoidPending => KindView::VoidPending,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TransferView {
    pub id: Id,
    pub debit_account_id: Id,
    pub credit_account_id: Id,
    pub amount: i64,
    pub currency: String,
    pub reason: Option<TransferCode>,
    pub kind: KindView,
    pub linked: bool,
    pub pending_id: Option<Id>,
    pub timeout_seconds: i64,
    pub memo: String,
    pub created_at: Timestamp,
}

impl From<StoredTransfer> for TransferView {
    fn from(
        StoredTransfer {
            transfer: t,
            created_at,
        }: StoredTransfer,
    ) -> Self {
        TransferView {
            id: Id::from_i64(t.id),
            debit_account_id: Id::from_i64(t.debit_account_id),
            credit_account_id: Id::from_i64(t.credit_account_id),
            amount: t.amount,
            currency: t.currency.code().to_owned(),
            reason: TransferCode::from_code(t.code),
            kind: t.kind.into(),
            linked: t.linked,
            pending_id: t.pending_id.map(Id::from_i64),
            timeout_seconds: t.timeout_seconds,
            memo: t.memo,
            created_at: Timestamp::from_millis(created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct OpenAccountRequest {
    pub kind: AccountKind,
    /// `platform`, `provider:<name>`, `store:<id>`, `user:<id>` or `org:<id>`.
    pub owner: String,
    pub currency: String,
}

/// Open (or find) the account of a kind for an owner and currency.
#[utoipa::path(post, path = "/admin/ledger/accounts", tag = "ledger", request_body = OpenAccountRequest,
    responses((status = 201, body = AccountView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn open_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<OpenAccountRequest>,
) -> AppResult<axum::response::Response> {
    crate::accounts::service::require_admin(&user)?;
    let owner = Owner::parse(&req.owner).ok_or_else(|| {
        AppError::invalid(
            "owner",
            "must be platform, provider:<name>, store:<id>, user:<id> or org:<id> (ids are numbers)",
        )
    })?;
    let currency =
        Currency::parse(&req.currency).map_err(|e| AppError::invalid("currency", e.to_string()))?;
    let account = service::ensure_account(&state, req.kind, &owner, currency).await?;
    Ok(created(AccountView::from(account)))
}

/// An account and its balances.
#[utoipa::path(get, path = "/admin/ledger/accounts/{id}", tag = "ledger",
    params(("id" = Id, Path, description = "The account's id")),
    responses((status = 200, body = AccountView), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<AccountView>> {
    Ok(Json(service::account(&state, &user, id).await?.into()))
}

/// An account's transfers, newest first.
#[utoipa::path(get, path = "/admin/ledger/accounts/{id}/transfers", tag = "ledger",
    params(("id" = Id, Path, description = "The account's id"), PageRequest),
    responses((status = 200, body = Page<TransferView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn history(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<TransferView>>> {
    let page = service::history(&state, &user, id, &page).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A transfer by id.
#[utoipa::path(get, path = "/admin/ledger/transfers/{id}", tag = "ledger",
    params(("id" = Id, Path, description = "The transfer's id")),
    responses((status = 200, body = TransferView), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn transfer(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<TransferView>> {
    Ok(Json(service::transfer(&state, &user, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct TransferRequest {
    /// Chosen by the caller and unique forever: retrying with the same id is safe.
    pub id: Id,
    pub debit_account_id: Id,
    pub credit_account_id: Id,
    /// Minor units, more than zero.
    pub amount: i64,
    pub currency: String,
    pub reason: TransferCode,
    #[serde(default)]
    pub kind: KindView,
    /// Ties this transfer to the next in the batch: all succeed or none do.
    #[serde(default)]
    pub linked: bool,
    pub pending_id: Option<Id>,
    #[serde(default)]
    pub timeout_seconds: i64,
    #[serde(default)]
    pub memo: String,
}

#[derive(Deserialize, ToSchema)]
pub struct TransferBatch {
    /// 1 to 1,000 transfers, applied in order.
    pub transfers: Vec<TransferRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct TransferResult {
    pub id: Id,
    /// `created`, `already_exists` (a retry: nothing moved again) or `refused`.
    pub status: &'static str,
    /// Why it was refused, e.g. `exceeds_credits` or `linked_event_failed`.
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TransferResults {
    pub results: Vec<TransferResult>,
}

/// Submit transfers (corrections by finance staff). Each transfer succeeds or is refused on its
/// own, except linked chains, which succeed or fail together.
#[utoipa::path(post, path = "/admin/ledger/transfers", tag = "ledger", request_body = TransferBatch,
    responses((status = 200, body = TransferResults), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn submit(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(batch): ApiJson<TransferBatch>,
) -> AppResult<Json<TransferResults>> {
    crate::accounts::service::require_admin(&user)?;
    let transfers = parse_batch(batch)?;
    let ids: Vec<i64> = transfers.iter().map(|t| t.id).collect();
    let outcomes = service::submit(&state, &user, transfers).await?;
    let results = ids
        .into_iter()
        .zip(outcomes)
        .map(|(id, outcome)| {
            let (status, error) = match outcome {
                Ok(Outcome::Created) => ("created", None),
                Ok(Outcome::AlreadyExists) => ("already_exists", None),
                Err(e) => ("refused", Some(snake_case(&format!("{e:?}")))),
            };
            TransferResult {
                id: Id::from_i64(id),
                status,
                error,
            }
        })
        .collect();
    Ok(Json(TransferResults { results }))
}

fn parse_batch(batch: TransferBatch) -> AppResult<Vec<Transfer>> {
    if batch.transfers.is_empty() || batch.transfers.len() > 1_000 {
        return Err(AppError::invalid(
            "transfers",
            "must hold 1 to 1,000 transfers",
        ));
    }
    let mut errors = Vec::new();
    let mut transfers = Vec::with_capacity(batch.transfers.len());
    for (i, t) in batch.transfers.into_iter().enumerate() {
        let field = |name: &str| format!("transfers[{i}].{name}");
        let currency = Currency::parse(&t.currency)
            .map_err(|e| errors.push(FieldError::new(field("currency"), e.to_string())));
        if t.memo.chars().count() > 200 {
            errors.push(FieldError::new(
                field("memo"),
                "must be at most 200 characters",
            ));
        }
        if let Ok(currency) = currency {
            transfers.push(Transfer {
                id: t.id.as_i64(),
                debit_account_id: t.debit_account_id.as_i64(),
                credit_account_id: t.credit_account_id.as_i64(),
                amount: t.amount,
                currency,
                code: t.reason.code(),
                kind: t.kind.into(),
                linked: t.linked,
                pending_id: t.pending_id.map(Id::as_i64),
                timeout_seconds: t.timeout_seconds,
                memo: t.memo,
            });
        }
    }
    if errors.is_empty() {
        Ok(transfers)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// `ExceedsCredits` → `exceeds_credits`: the stable names of refusals in the API.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Serialize, ToSchema)]
pub struct CurrencyTotalsView {
    pub currency: String,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
    /// Debits equal credits, posted and pending alike.
    pub balanced: bool,
}

impl From<CurrencyTotals> for CurrencyTotalsView {
    fn from(t: CurrencyTotals) -> Self {
        CurrencyTotalsView {
            balanced: t.is_balanced(),
            currency: t.currency.code().to_owned(),
            debits_posted: t.debits_posted,
            credits_posted: t.credits_posted,
            debits_pending: t.debits_pending,
            credits_pending: t.credits_pending,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TrialBalance {
    pub currencies: Vec<CurrencyTotalsView>,
    pub accounts: Vec<AccountView>,
}

/// The trial balance: every account, and per currency the sums that must balance.
#[utoipa::path(get, path = "/admin/ledger/trial-balance", tag = "ledger",
    responses((status = 200, body = TrialBalance), (status = 403, body = Problem)))]
async fn trial_balance(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<TrialBalance>> {
    let (totals, accounts) = service::trial_balance(&state, &user).await?;
    Ok(Json(TrialBalance {
        currencies: totals.into_iter().map(Into::into).collect(),
        accounts: accounts.into_iter().map(Into::into).collect(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_have_snake_case_names() {
        assert_eq!(super::snake_case("ExceedsCredits"), "exceeds_credits");
        assert_eq!(
            super::snake_case("LinkedEventFailed"),
            "linked_event_failed"
        );
    }
}
