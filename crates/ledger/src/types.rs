//! The ledger's vocabulary: accounts, balances, transfers and why a transfer can be refused.

use kernel::Currency;
use serde::{Deserialize, Serialize};

pub type AccountId = i64;
pub type TransferId = i64;

/// Limits an account's balance may not cross.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountFlags {
    /// Debits (pending and posted) may not exceed posted credits: a wallet, a payable.
    pub debits_must_not_exceed_credits: bool,
    /// Credits (pending and posted) may not exceed posted debits.
    pub credits_must_not_exceed_debits: bool,
}

impl AccountFlags {
    pub fn bits(self) -> i64 {
        i64::from(self.debits_must_not_exceed_credits)
            | (i64::from(self.credits_must_not_exceed_debits) << 1)
    }

    pub fn from_bits(bits: i64) -> Self {
        AccountFlags {
            debits_must_not_exceed_credits: bits & 1 != 0,
            credits_must_not_exceed_debits: bits & 2 != 0,
        }
    }
}

/// Amounts in minor units. Pending amounts are reserved by two-phase transfers not yet resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Balance {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub currency: Currency,
    /// The kind of account in the chart of accounts.
    pub code: i64,
    /// Who the account belongs to, e.g. `store:42` or `platform`.
    pub owner: String,
    pub flags: AccountFlags,
    pub balance: Balance,
    pub created_at: i64,
}

/// What kind of movement a transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransferKind {
    /// Moves money at once.
    Posted,
    /// Reserves money until posted, voided or expired.
    Pending,
    /// Settles a pending transfer, in full or in part; the rest is released.
    PostPending,
    /// Releases a pending transfer entirely.
    VoidPending,
}

impl TransferKind {
    pub fn bits(self) -> i64 {
        match self {
            TransferKind::Posted => 0,
            TransferKind::Pending => 2,
            TransferKind::PostPending => 4,
            TransferKind::VoidPending => 8,
        }
    }
}

/// A request to move money. Once accepted it is never changed; corrections are new transfers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    /// Chosen by the caller and unique forever: submitting it again is safe.
    pub id: TransferId,
    pub debit_account_id: AccountId,
    pub credit_account_id: AccountId,
    pub amount: i64,
    pub currency: Currency,
    /// Why the money moves (order payment, commission, refund, …), from the chart of accounts.
    pub code: i64,
    pub kind: TransferKind,
    /// Chains this transfer with the next one in the batch: all succeed or none do.
    pub linked: bool,
    /// For post and void: the pending transfer they resolve.
    pub pending_id: Option<TransferId>,
    /// For pending transfers: seconds until it expires and releases its funds; 0 never.
    pub timeout_seconds: i64,
    pub memo: String,
}

impl Transfer {
    /// Flags as stored: the kind's bit plus 1 when linked.
    pub fn flag_bits(&self) -> i64 {
        self.kind.bits() | i64::from(self.linked)
    }

    pub fn from_flag_bits(bits: i64) -> (TransferKind, bool) {
        let kind = match bits & !1 {
            2 => TransferKind::Pending,
            4 => TransferKind::PostPending,
            8 => TransferKind::VoidPending,
            _ => TransferKind::Posted,
        };
        (kind, bits & 1 != 0)
    }
}

/// What happened to an accepted transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Created,
    /// The same transfer was accepted before; nothing moved again.
    AlreadyExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum TransferError {
    #[error("id must be a positive number")]
    IdMustBePositive,
    #[error("amount must be positive")]
    AmountMustBePositive,
    #[error("debit and credit accounts must be different")]
    AccountsMustBeDifferent,
    #[error("the debit account does not exist")]
    DebitAccountNotFound,
    #[error("the credit account does not exist")]
    CreditAccountNotFound,
    #[error("both accounts must hold the transfer's currency")]
    CurrencyMismatch,
    #[error("the debit account's debits would exceed its credits")]
    ExceedsCredits,
    #[error("the credit account's credits would exceed its debits")]
    ExceedsDebits,
    #[error("the balance would overflow")]
    Overflow,
    #[error("only a pending transfer may have a timeout")]
    TimeoutRequiresPending,
    #[error("timeout must not be negative")]
    NegativeTimeout,
    #[error("post and void transfers need a pending_id; other transfers must not have one")]
    PendingIdMismatch,
    #[error("the pending transfer does not exist")]
    PendingTransferNotFound,
    #[error("the referenced transfer is not a pending transfer")]
    NotAPendingTransfer,
    #[error("the pending transfer is already posted")]
    PendingTransferAlreadyPosted,
    #[error("the pending transfer is already voided")]
    PendingTransferAlreadyVoided,
    #[error("the pending transfer has expired")]
    PendingTransferExpired,
    #[error("accounts and currency must match the pending transfer")]
    PendingTransferMismatch,
    #[error("a post may not exceed the pending amount")]
    ExceedsPendingAmount,
    #[error("a void must name the full pending amount")]
    VoidAmountMismatch,
    #[error("a transfer with this id exists with different fields")]
    ExistsWithDifferentFields,
    #[error("another transfer in the linked chain failed")]
    LinkedEventFailed,
    #[error("the batch ends inside a linked chain")]
    LinkedEventChainOpen,
}

/// Where a pending transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PendingState {
    Open,
    Posted,
    Voided,
    Expired,
}

/// A pending transfer and its resolution, as the engine tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pending {
    pub debit_account_id: AccountId,
    pub credit_account_id: AccountId,
    pub amount: i64,
    pub currency: Currency,
    /// Unix milliseconds at which it expires; `None` never.
    pub expires_at: Option<i64>,
    pub state: PendingState,
}
