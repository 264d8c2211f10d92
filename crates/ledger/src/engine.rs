//! The rules, in memory and without I/O. Every change is recorded in a [`Journal`] so that a
//! failed linked chain, or a batch whose database commit fails, can be undone exactly.

use std::collections::{BTreeSet, HashMap};

use kernel::Currency;

use crate::types::{
    Account, AccountId, Balance, Outcome, Pending, PendingState, Transfer, TransferError,
    TransferId, TransferKind,
};

/// Accounts with their balances and every pending transfer with its state.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    accounts: HashMap<AccountId, Account>,
    pendings: HashMap<TransferId, Pending>,
    /// Open pending transfers with a timeout, by expiry time.
    expiries: BTreeSet<(i64, TransferId)>,
    /// One account per kind, owner and currency.
    by_kind: HashMap<(i64, String, Currency), AccountId>,
}

/// What one batch changed: the rows to persist, and how to undo it in memory.
#[derive(Debug, Default)]
pub struct Journal {
    undo: Vec<Undo>,
    /// Accepted transfers, with the time they were accepted.
    pub created: Vec<(Transfer, i64)>,
    created_index: HashMap<TransferId, usize>,
    /// Pending transfers that expired: (id, time).
    pub expired: Vec<(TransferId, i64)>,
}

#[derive(Debug)]
enum Undo {
    Balance(AccountId, Balance),
    Pending(TransferId, Option<Pending>),
    ExpiryAdded(i64, TransferId),
    ExpiryRemoved(i64, TransferId),
    Opened(AccountId),
}

impl Journal {
    /// Accounts whose balance this batch changed or which it opened.
    pub fn touched_accounts(&self) -> Vec<AccountId> {
        let mut ids: Vec<AccountId> = self
            .undo
            .iter()
            .filter_map(|u| match u {
                Undo::Balance(id, _) | Undo::Opened(id) => Some(*id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn is_empty(&self) -> bool {
        self.undo.is_empty() && self.created.is_empty()
    }

    fn mark(&self) -> (usize, usize) {
        (self.undo.len(), self.created.len())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
pub enum AccountError {
    #[error("id must be a positive number")]
    IdMustBePositive,
    #[error("an account with this id exists with different fields")]
    ExistsWithDifferentFields,
    #[error("an account cannot be opened with a balance")]
    BalanceMustBeZero,
    #[error("this owner already has an account of this kind in this currency")]
    KindAlreadyOpen,
}

impl Ledger {
    pub fn new() -> Self {
        Ledger::default()
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn pending(&self, id: TransferId) -> Option<&Pending> {
        self.pendings.get(&id)
    }

    /// Restores an account as stored (start-up).
    pub fn load_account(&mut self, account: Account) {
        self.by_kind.insert(kind_key(&account), account.id);
        self.accounts.insert(account.id, account);
    }

    /// Restores a pending transfer as stored (start-up).
    pub fn load_pending(&mut self, id: TransferId, pending: Pending) {
        if let (PendingState::Open, Some(at)) = (pending.state, pending.expires_at) {
            self.expiries.insert((at, id));
        }
        self.pendings.insert(id, pending);
    }

    /// Opens an account. Opening the same account again is a no-op.
    pub fn open_account(
        &mut self,
        account: Account,
        journal: &mut Journal,
    ) -> Result<Outcome, AccountError> {
        if account.id <= 0 {
            return Err(AccountError::IdMustBePositive);
        }
        if account.balance != Balance::default() {
            return Err(AccountError::BalanceMustBeZero);
        }
        match self.accounts.get(&account.id) {
            Some(existing) if same_account(existing, &account) => Ok(Outcome::AlreadyExists),
            Some(_) => Err(AccountError::ExistsWithDifferentFields),
            None if self.by_kind.contains_key(&kind_key(&account)) => {
                Err(AccountError::KindAlreadyOpen)
            }
            None => {
                self.by_kind.insert(kind_key(&account), account.id);
                journal.undo.push(Undo::Opened(account.id));
                self.accounts.insert(account.id, account);
                Ok(Outcome::Created)
            }
        }
    }

    /// Applies a batch in order at time `now_ms`: first every pending transfer due by then
    /// expires, then the transfers run. `stored` finds transfers committed earlier (for
    /// idempotency). Linked chains succeed or fail as a whole; a chain still open at the end of
    /// the batch is refused untried.
    pub fn execute(
        &mut self,
        batch: &[Transfer],
        now_ms: i64,
        stored: &dyn Fn(TransferId) -> Option<Transfer>,
        journal: &mut Journal,
    ) -> Vec<Result<Outcome, TransferError>> {
        self.expire_due(now_ms, journal);
        let mut results = Vec::with_capacity(batch.len());
        let mut start = 0;
        while start < batch.len() {
            let end = batch[start..]
                .iter()
                .position(|t| !t.linked)
                .map_or(batch.len(), |p| start + p + 1);
            let chain = &batch[start..end];
            let closed = !chain[chain.len() - 1].linked;
            if closed {
                results.extend(self.execute_chain(chain, now_ms, stored, journal));
            } else {
                results.extend(chain.iter().map(|_| Err(TransferError::LinkedEventFailed)));
                *results.last_mut().expect("chains are never empty") =
                    Err(TransferError::LinkedEventChainOpen);
            }
            start = end;
        }
        results
    }

    fn execute_chain(
        &mut self,
        chain: &[Transfer],
        now_ms: i64,
        stored: &dyn Fn(TransferId) -> Option<Transfer>,
        journal: &mut Journal,
    ) -> Vec<Result<Outcome, TransferError>> {
        let mark = journal.mark();
        let mut results = Vec::with_capacity(chain.len());
        for transfer in chain {
            let result = self.execute_one(transfer, now_ms, stored, journal);
            if let Err(error) = result {
                if chain.len() > 1 {
                    self.rollback_to(journal, mark);
                    let mut failed = vec![Err(TransferError::LinkedEventFailed); chain.len()];
                    failed[results.len()] = Err(error);
                    return failed;
                }
            }
            results.push(result);
        }
        results
    }

    fn execute_one(
        &mut self,
        transfer: &Transfer,
        now_ms: i64,
        stored: &dyn Fn(TransferId) -> Option<Transfer>,
        journal: &mut Journal,
    ) -> Result<Outcome, TransferError> {
        if transfer.id <= 0 {
            return Err(TransferError::IdMustBePositive);
        }
        let earlier = match journal.created_index.get(&transfer.id) {
            Some(&index) => Some(journal.created[index].0.clone()),
            None => stored(transfer.id),
        };
        if let Some(earlier) = earlier {
            return if earlier == *transfer {
                Ok(Outcome::AlreadyExists)
            } else {
                Err(TransferError::ExistsWithDifferentFields)
            };
        }
        self.check_shape(transfer)?;
        match transfer.kind {
            TransferKind::Posted | TransferKind::Pending => {
                self.move_funds(transfer, now_ms, journal)?
            }
            TransferKind::PostPending | TransferKind::VoidPending => {
                self.resolve(transfer, stored, journal)?
            }
        }
        journal
            .created_index
            .insert(transfer.id, journal.created.len());
        journal.created.push((transfer.clone(), now_ms));
        Ok(Outcome::Created)
    }

    /// Checks that need no state.
    fn check_shape(&self, t: &Transfer) -> Result<(), TransferError> {
        if t.amount <= 0 {
            return Err(TransferError::AmountMustBePositive);
        }
        if t.debit_account_id == t.credit_account_id {
            return Err(TransferError::AccountsMustBeDifferent);
        }
        if t.timeout_seconds < 0 {
            return Err(TransferError::NegativeTimeout);
        }
        if t.timeout_seconds > 0 && t.kind != TransferKind::Pending {
            return Err(TransferError::TimeoutRequiresPending);
        }
        let resolves = matches!(
            t.kind,
            TransferKind::PostPending | TransferKind::VoidPending
        );
        if resolves != t.pending_id.is_some() {
            return Err(TransferError::PendingIdMismatch);
        }
        Ok(())
    }

    /// A posted or pending transfer: checks both accounts, then moves or reserves the amount.
    fn move_funds(
        &mut self,
        t: &Transfer,
        now_ms: i64,
        journal: &mut Journal,
    ) -> Result<(), TransferError> {
        let debit = self
            .accounts
            .get(&t.debit_account_id)
            .ok_or(TransferError::DebitAccountNotFound)?;
        let credit = self
            .accounts
            .get(&t.credit_account_id)
            .ok_or(TransferError::CreditAccountNotFound)?;
        if debit.currency != t.currency || credit.currency != t.currency {
            return Err(TransferError::CurrencyMismatch);
        }
        let pending = t.kind == TransferKind::Pending;
        let (mut d, mut c) = (debit.balance, credit.balance);
        let (d_field, c_field) = if pending {
            (&mut d.debits_pending, &mut c.credits_pending)
        } else {
            (&mut d.debits_posted, &mut c.credits_posted)
        };
        *d_field = d_field
            .checked_add(t.amount)
            .ok_or(TransferError::Overflow)?;
        *c_field = c_field
            .checked_add(t.amount)
            .ok_or(TransferError::Overflow)?;
        if debit.flags.debits_must_not_exceed_credits
            && d.debits_pending + d.debits_posted > d.credits_posted
        {
            return Err(TransferError::ExceedsCredits);
        }
        if credit.flags.credits_must_not_exceed_debits
            && c.credits_pending + c.credits_posted > c.debits_posted
        {
            return Err(TransferError::ExceedsDebits);
        }
        self.set_balance(t.debit_account_id, d, journal);
        self.set_balance(t.credit_account_id, c, journal);
        if pending {
            let expires_at = (t.timeout_seconds > 0)
                .then(|| now_ms.saturating_add(t.timeout_seconds.saturating_mul(1000)));
            let record = Pending {
                debit_account_id: t.debit_account_id,
                credit_account_id: t.credit_account_id,
                amount: t.amount,
                currency: t.currency,
                expires_at,
                state: PendingState::Open,
            };
            self.set_pending(t.id, record, journal);
        }
        Ok(())
    }

    /// Posts (in full or in part) or voids an open pending transfer.
    fn resolve(
        &mut self,
        t: &Transfer,
        stored: &dyn Fn(TransferId) -> Option<Transfer>,
        journal: &mut Journal,
    ) -> Result<(), TransferError> {
        let pending_id = t.pending_id.ok_or(TransferError::PendingIdMismatch)?;
        let Some(&pending) = self.pendings.get(&pending_id) else {
            let exists =
                journal.created_index.contains_key(&pending_id) || stored(pending_id).is_some();
            return Err(if exists {
                TransferError::NotAPendingTransfer
            } else {
                TransferError::PendingTransferNotFound
            });
        };
        match pending.state {
            PendingState::Open => {}
            PendingState::Posted => return Err(TransferError::PendingTransferAlreadyPosted),
            PendingState::Voided => return Err(TransferError::PendingTransferAlreadyVoided),
            PendingState::Expired => return Err(TransferError::PendingTransferExpired),
        }
        if (
            pending.debit_account_id,
            pending.credit_account_id,
            pending.currency,
        ) != (t.debit_account_id, t.credit_account_id, t.currency)
        {
            return Err(TransferError::PendingTransferMismatch);
        }
        let posted = match t.kind {
            TransferKind::PostPending if t.amount > pending.amount => {
                return Err(TransferError::ExceedsPendingAmount)
            }
            TransferKind::PostPending => t.amount,
            _ if t.amount != pending.amount => return Err(TransferError::VoidAmountMismatch),
            _ => 0,
        };
        let state = if posted > 0 {
            PendingState::Posted
        } else {
            PendingState::Voided
        };
        self.release(pending_id, pending, posted, state, journal);
        Ok(())
    }

    /// Takes the pending amount off both accounts, posts `posted` of it, and records the state.
    fn release(
        &mut self,
        id: TransferId,
        pending: Pending,
        posted: i64,
        state: PendingState,
        journal: &mut Journal,
    ) {
        let mut d = self.accounts[&pending.debit_account_id].balance;
        let mut c = self.accounts[&pending.credit_account_id].balance;
        d.debits_pending -= pending.amount;
        c.credits_pending -= pending.amount;
        d.debits_posted += posted;
        c.credits_posted += posted;
        self.set_balance(pending.debit_account_id, d, journal);
        self.set_balance(pending.credit_account_id, c, journal);
        if let Some(at) = pending.expires_at {
            if self.expiries.remove(&(at, id)) {
                journal.undo.push(Undo::ExpiryRemoved(at, id));
            }
        }
        self.set_pending(id, Pending { state, ..pending }, journal);
    }

    /// Expires every open pending transfer whose time has come.
    pub fn expire_due(&mut self, now_ms: i64, journal: &mut Journal) -> usize {
        let due: Vec<TransferId> = self
            .expiries
            .range(..=(now_ms, TransferId::MAX))
            .map(|&(_, id)| id)
            .collect();
        for &id in &due {
            let pending = self.pendings[&id];
            self.release(id, pending, 0, PendingState::Expired, journal);
            journal.expired.push((id, now_ms));
        }
        due.len()
    }

    /// When the next pending transfer expires, if any does.
    pub fn next_expiry(&self) -> Option<i64> {
        self.expiries.first().map(|&(at, _)| at)
    }

    fn set_balance(&mut self, id: AccountId, balance: Balance, journal: &mut Journal) {
        let account = self.accounts.get_mut(&id).expect("checked before");
        journal.undo.push(Undo::Balance(id, account.balance));
        account.balance = balance;
    }

    fn set_pending(&mut self, id: TransferId, pending: Pending, journal: &mut Journal) {
        let before = self.pendings.insert(id, pending);
        journal.undo.push(Undo::Pending(id, before));
        if let (PendingState::Open, Some(at)) = (pending.state, pending.expires_at) {
            self.expiries.insert((at, id));
            journal.undo.push(Undo::ExpiryAdded(at, id));
        }
    }

    fn rollback_to(&mut self, journal: &mut Journal, (undo_mark, created_mark): (usize, usize)) {
        while journal.undo.len() > undo_mark {
            match journal.undo.pop().expect("length checked") {
                Undo::Balance(id, balance) => {
                    if let Some(account) = self.accounts.get_mut(&id) {
                        account.balance = balance;
                    }
                }
                Undo::Pending(id, Some(before)) => {
                    self.pendings.insert(id, before);
                }
                Undo::Pending(id, None) => {
                    self.pendings.remove(&id);
                }
                Undo::ExpiryAdded(at, id) => {
                    self.expiries.remove(&(at, id));
                }
                Undo::ExpiryRemoved(at, id) => {
                    self.expiries.insert((at, id));
                }
                Undo::Opened(id) => {
                    if let Some(account) = self.accounts.remove(&id) {
                        self.by_kind.remove(&kind_key(&account));
                    }
                }
            }
        }
        for (transfer, _) in journal.created.drain(created_mark..) {
            journal.created_index.remove(&transfer.id);
        }
        // Expiries recorded inside a rolled-back chain were undone with the balances above.
        journal.expired.retain(|(id, _)| {
            self.pendings
                .get(id)
                .is_some_and(|p| p.state == PendingState::Expired)
        });
    }
}

fn kind_key(account: &Account) -> (i64, String, Currency) {
    (account.code, account.owner.clone(), account.currency)
}

fn same_account(a: &Account, b: &Account) -> bool {
    a.currency == b.currency && a.code == b.code && a.owner == b.owner && a.flags == b.flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AccountFlags;

    const CNY: Currency = Currency::CNY;

    fn account(id: AccountId, flags: AccountFlags) -> Account {
        Account {
            id,
            currency: CNY,
            code: 1,
            owner: format!("test:{id}"),
            flags,
            balance: Balance::default(),
            created_at: 0,
        }
    }

    fn transfer(id: TransferId, debit: AccountId, credit: AccountId, amount: i64) -> Transfer {
        Transfer {
            id,
            debit_account_id: debit,
            credit_account_id: credit,
            amount,
            currency: CNY,
            code: 1,
            kind: TransferKind::Posted,
            linked: false,
            pending_id: None,
            timeout_seconds: 0,
            memo: String::new(),
        }
    }

    fn pending(
        id: TransferId,
        debit: AccountId,
        credit: AccountId,
        amount: i64,
        timeout_seconds: i64,
    ) -> Transfer {
        Transfer {
            kind: TransferKind::Pending,
            timeout_seconds,
            ..transfer(id, debit, credit, amount)
        }
    }

    fn resolve(id: TransferId, of: &Transfer, kind: TransferKind, amount: i64) -> Transfer {
        Transfer {
            kind,
            pending_id: Some(of.id),
            ..transfer(id, of.debit_account_id, of.credit_account_id, amount)
        }
    }

    /// Accounts 1 (unlimited), 2 (a wallet: debits ≤ credits), 3 (unlimited).
    fn ledger() -> Ledger {
        let mut ledger = Ledger::new();
        let wallet = AccountFlags {
            debits_must_not_exceed_credits: true,
            ..AccountFlags::default()
        };
        let mut journal = Journal::default();
        for a in [
            account(1, AccountFlags::default()),
            account(2, wallet),
            account(3, AccountFlags::default()),
        ] {
            ledger.open_account(a, &mut journal).unwrap();
        }
        ledger
    }

    fn run(
        ledger: &mut Ledger,
        batch: &[Transfer],
        now: i64,
    ) -> Vec<Result<Outcome, TransferError>> {
        ledger.execute(batch, now, &|_| None, &mut Journal::default())
    }

    fn balance(ledger: &Ledger, id: AccountId) -> Balance {
        ledger.account(id).unwrap().balance
    }

    #[test]
    fn a_transfer_debits_one_account_and_credits_the_other() {
        let mut l = ledger();
        assert_eq!(
            run(&mut l, &[transfer(10, 1, 2, 500)], 0),
            [Ok(Outcome::Created)]
        );
        assert_eq!(balance(&l, 1).debits_posted, 500);
        assert_eq!(balance(&l, 2).credits_posted, 500);
    }

    #[test]
    fn a_wallet_cannot_spend_more_than_it_holds() {
        let mut l = ledger();
        run(&mut l, &[transfer(10, 1, 2, 500)], 0);
        assert_eq!(
            run(&mut l, &[transfer(11, 2, 3, 501)], 0),
            [Err(TransferError::ExceedsCredits)]
        );
        assert_eq!(
            run(&mut l, &[transfer(12, 2, 3, 500)], 0),
            [Ok(Outcome::Created)]
        );
        assert_eq!(balance(&l, 2).debits_posted, 500);
    }

    #[test]
    fn retries_with_the_same_id_are_no_ops_and_changed_retries_are_refused() {
        let mut l = ledger();
        let t = transfer(10, 1, 2, 500);
        let stored = |id| (id == 10).then(|| t.clone());
        assert_eq!(
            l.execute(
                std::slice::from_ref(&t),
                0,
                &stored,
                &mut Journal::default()
            ),
            [Ok(Outcome::AlreadyExists)]
        );
        let changed = transfer(10, 1, 2, 501);
        assert_eq!(
            l.execute(&[changed], 0, &stored, &mut Journal::default()),
            [Err(TransferError::ExistsWithDifferentFields)]
        );
        assert_eq!(balance(&l, 1), Balance::default(), "nothing moved");
        // Within one batch, too.
        assert_eq!(
            run(&mut l, &[transfer(20, 1, 3, 5), transfer(20, 1, 3, 5)], 0),
            [Ok(Outcome::Created), Ok(Outcome::AlreadyExists)]
        );
    }

    #[test]
    fn a_pending_transfer_reserves_then_posts_part_and_releases_the_rest() {
        let mut l = ledger();
        run(&mut l, &[transfer(1, 1, 2, 1_000)], 0);
        let hold = pending(2, 2, 3, 600, 0);
        run(&mut l, std::slice::from_ref(&hold), 0);
        assert_eq!(balance(&l, 2).debits_pending, 600);
        assert_eq!(
            run(&mut l, &[transfer(3, 2, 3, 401)], 0),
            [Err(TransferError::ExceedsCredits)],
            "reserved funds are spoken for"
        );
        assert_eq!(
            run(
                &mut l,
                &[resolve(4, &hold, TransferKind::PostPending, 601)],
                0
            ),
            [Err(TransferError::ExceedsPendingAmount)]
        );
        assert_eq!(
            run(
                &mut l,
                &[resolve(5, &hold, TransferKind::PostPending, 250)],
                0
            ),
            [Ok(Outcome::Created)]
        );
        let b = balance(&l, 2);
        assert_eq!((b.debits_pending, b.debits_posted), (0, 250));
        assert_eq!(
            run(
                &mut l,
                &[resolve(6, &hold, TransferKind::PostPending, 100)],
                0
            ),
            [Err(TransferError::PendingTransferAlreadyPosted)]
        );
        assert_eq!(
            run(
                &mut l,
                &[resolve(7, &hold, TransferKind::VoidPending, 600)],
                0
            ),
            [Err(TransferError::PendingTransferAlreadyPosted)]
        );
    }

    #[test]
    fn voids_release_everything_and_expiry_releases_on_time() {
        let mut l = ledger();
        let hold = pending(1, 1, 3, 300, 0);
        let timed = pending(2, 1, 3, 200, 10);
        run(&mut l, &[hold.clone(), timed.clone()], 1_000);
        assert_eq!(
            run(
                &mut l,
                &[resolve(3, &hold, TransferKind::VoidPending, 299)],
                1_000
            ),
            [Err(TransferError::VoidAmountMismatch)]
        );
        assert_eq!(
            run(
                &mut l,
                &[resolve(4, &hold, TransferKind::VoidPending, 300)],
                1_000
            ),
            [Ok(Outcome::Created)]
        );
        assert_eq!(l.next_expiry(), Some(11_000));
        assert_eq!(l.expire_due(10_999, &mut Journal::default()), 0);
        let mut journal = Journal::default();
        assert_eq!(l.expire_due(11_000, &mut journal), 1);
        assert_eq!(journal.expired, [(2, 11_000)]);
        assert_eq!(balance(&l, 1), Balance::default());
        assert_eq!(
            run(
                &mut l,
                &[resolve(5, &timed, TransferKind::PostPending, 200)],
                11_000
            ),
            [Err(TransferError::PendingTransferExpired)]
        );
    }

    #[test]
    fn posting_after_the_deadline_finds_the_transfer_expired() {
        let mut l = ledger();
        let timed = pending(1, 1, 3, 200, 1);
        run(&mut l, std::slice::from_ref(&timed), 0);
        let mut journal = Journal::default();
        let late = l.execute(
            &[resolve(2, &timed, TransferKind::PostPending, 200)],
            1_000,
            &|_| None,
            &mut journal,
        );
        assert_eq!(late, [Err(TransferError::PendingTransferExpired)]);
        assert_eq!(journal.expired, [(1, 1_000)], "the expiry is recorded");
        assert_eq!(balance(&l, 1), Balance::default());
    }

    #[test]
    fn a_linked_chain_fails_as_a_whole_and_leaves_no_trace() {
        let mut l = ledger();
        let chain = [
            Transfer {
                linked: true,
                ..transfer(1, 1, 2, 100)
            },
            Transfer {
                linked: true,
                ..transfer(2, 2, 3, 100)
            },
            transfer(3, 2, 3, 1), // the wallet holds nothing more
            transfer(4, 1, 3, 7),
        ];
        let mut journal = Journal::default();
        let results = l.execute(&chain, 0, &|_| None, &mut journal);
        assert_eq!(
            results,
            [
                Err(TransferError::LinkedEventFailed),
                Err(TransferError::LinkedEventFailed),
                Err(TransferError::ExceedsCredits),
                Ok(Outcome::Created),
            ]
        );
        assert_eq!(balance(&l, 2), Balance::default());
        assert_eq!(journal.created.len(), 1);
        assert_eq!(journal.created[0].0.id, 4);
    }

    #[test]
    fn a_chain_left_open_at_the_end_of_a_batch_fails() {
        let mut l = ledger();
        let batch = [
            transfer(1, 1, 3, 5),
            Transfer {
                linked: true,
                ..transfer(2, 1, 3, 5)
            },
        ];
        assert_eq!(
            run(&mut l, &batch, 0),
            [
                Ok(Outcome::Created),
                Err(TransferError::LinkedEventChainOpen)
            ]
        );
        assert_eq!(balance(&l, 1).debits_posted, 5);
    }

    #[test]
    fn malformed_transfers_are_refused_with_a_reason() {
        let mut l = ledger();
        let usd = Currency::parse("USD").unwrap();
        let cases = [
            (transfer(0, 1, 2, 5), TransferError::IdMustBePositive),
            (transfer(1, 1, 2, 0), TransferError::AmountMustBePositive),
            (transfer(2, 1, 1, 5), TransferError::AccountsMustBeDifferent),
            (transfer(3, 9, 2, 5), TransferError::DebitAccountNotFound),
            (transfer(4, 1, 9, 5), TransferError::CreditAccountNotFound),
            (
                Transfer {
                    currency: usd,
                    ..transfer(5, 1, 2, 5)
                },
                TransferError::CurrencyMismatch,
            ),
            (
                Transfer {
                    timeout_seconds: 5,
                    ..transfer(6, 1, 2, 5)
                },
                TransferError::TimeoutRequiresPending,
            ),
            (
                Transfer {
                    pending_id: Some(1),
                    ..transfer(7, 1, 2, 5)
                },
                TransferError::PendingIdMismatch,
            ),
            (
                Transfer {
                    kind: TransferKind::PostPending,
                    pending_id: Some(99),
                    ..transfer(8, 1, 2, 5)
                },
                TransferError::PendingTransferNotFound,
            ),
        ];
        for (t, error) in cases {
            assert_eq!(run(&mut l, &[t], 0), [Err(error)]);
        }
        let posted = transfer(10, 1, 3, 5);
        run(&mut l, std::slice::from_ref(&posted), 0);
        let not_pending = Transfer {
            kind: TransferKind::VoidPending,
            pending_id: Some(10),
            ..transfer(11, 1, 3, 5)
        };
        let stored = |id| (id == 10).then(|| posted.clone());
        let result = l.execute(&[not_pending], 0, &stored, &mut Journal::default());
        assert_eq!(result, [Err(TransferError::NotAPendingTransfer)]);
    }

    #[test]
    fn accounts_open_once_per_id_and_once_per_kind() {
        let mut l = ledger();
        let mut journal = Journal::default();
        assert_eq!(
            l.open_account(account(1, AccountFlags::default()), &mut journal),
            Ok(Outcome::AlreadyExists)
        );
        let changed = Account {
            code: 2,
            ..account(1, AccountFlags::default())
        };
        assert_eq!(
            l.open_account(changed, &mut journal),
            Err(AccountError::ExistsWithDifferentFields)
        );
        let twin = Account {
            id: 50,
            ..account(1, AccountFlags::default())
        };
        assert_eq!(
            l.open_account(twin, &mut journal),
            Err(AccountError::KindAlreadyOpen)
        );
    }
}
