//! The ledger made durable. One writer per database owns the in-memory [`Ledger`]: it gathers
//! whatever submissions are waiting (up to a batch limit), applies them in memory, writes the
//! accepted transfers, expiries and new balances in one transaction, and answers each caller
//! only after that commit: group commit. On SQLite the writer's connection uses
//! `synchronous = FULL`, so an acknowledged transfer survives a power cut, not only a crash;
//! one fsync is shared by the whole group.
//!
//! The writer runs on the node holding the `ledger` lease ([`store::lease`]), and writes through
//! the connection that holds it. Every other node forwards its submissions to it through the
//! database (`ledger_requests`, see [`crate::forward`]); the writer answers them in the same
//! transaction that commits their transfers. When the holder dies its lease passes on, and the
//! new writer loads the ledger from the database before it takes anything.
//!
//! Reads (balances, history, trial balance) go to the database through the pool: committed
//! state only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kernel::{Currency, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};
use store::lease::Lease;
use store::{values_placeholders, Backend, Db};
use tokio::sync::{mpsc, oneshot, watch};

use crate::engine::{AccountError, Journal, Ledger};
use crate::types::{
    Account, AccountFlags, AccountId, Balance, Outcome, Pending, PendingState, Transfer,
    TransferError, TransferId, TransferKind,
};
use crate::writer::Writer;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the ledger's database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the ledger has stopped")]
    Stopped,
    /// Nothing was applied: the submission was withdrawn before any writer took it.
    #[error("no node wrote the ledger for {} seconds", crate::forward::GIVE_UP_AFTER.as_secs())]
    NoWriter,
}

impl LedgerError {
    /// The same error for another waiter (sqlx errors cannot be cloned).
    pub(crate) fn again(&self) -> LedgerError {
        match self {
            LedgerError::Database(e) => LedgerError::Database(sqlx::Error::Protocol(e.to_string())),
            LedgerError::Stopped => LedgerError::Stopped,
            LedgerError::NoWriter => LedgerError::NoWriter,
        }
    }
}

pub type TransferResults = Vec<Result<Outcome, TransferError>>;
pub type AccountResults = Vec<Result<Outcome, AccountError>>;

/// What a node's ledger is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Another node writes (or none yet): submissions are forwarded to it.
    Following,
    /// This node is starting, or was given the lease and is loading the ledger; submissions
    /// wait.
    TakingOver,
    /// This node writes.
    Leading,
}

/// What the writer is sent: work, or the request to stop.
pub(crate) enum Message {
    Command(Command),
    /// Finish what is queued before it, release the connection, then answer.
    Stop(oneshot::Sender<()>),
}

/// A submission as it travels, also between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    OpenAccounts(Vec<Account>),
    Transfers(Vec<Transfer>),
}

/// What the writer answers to a [`Request`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    Accounts(AccountResults),
    Transfers(TransferResults),
}

pub(crate) type ReplyTo = oneshot::Sender<Result<Reply, LedgerError>>;

pub(crate) struct Command {
    pub request: Request,
    pub reply: ReplyTo,
}

impl Request {
    /// How much of a batch it takes.
    pub fn size(&self) -> usize {
        match self {
            Request::OpenAccounts(accounts) => accounts.len().max(1),
            Request::Transfers(transfers) => transfers.len().max(1),
        }
    }

    /// Applies it to the ledger in memory, recording what changed in `journal`.
    pub fn apply(
        &self,
        ledger: &mut Ledger,
        now: i64,
        stored: &HashMap<TransferId, Transfer>,
        journal: &mut Journal,
    ) -> Reply {
        match self {
            Request::OpenAccounts(accounts) => Reply::Accounts(
                accounts
                    .iter()
                    .map(|a| ledger.open_account(a.clone(), journal))
                    .collect(),
            ),
            Request::Transfers(transfers) => {
                let lookup = |id| stored.get(&id).cloned();
                Reply::Transfers(ledger.execute(transfers, now, &lookup, journal))
            }
        }
    }

    /// Ids whose committed transfers applying it may need: its own (retries) and the pending
    /// transfers it resolves.
    pub fn referenced_ids(&self) -> impl Iterator<Item = TransferId> + '_ {
        let transfers = match self {
            Request::Transfers(transfers) => transfers.as_slice(),
            Request::OpenAccounts(..) => &[],
        };
        transfers
            .iter()
            .flat_map(|t| std::iter::once(t.id).chain(t.pending_id))
    }
}

/// A transfer as committed, with the time it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransfer {
    pub transfer: Transfer,
    pub created_at: i64,
}

/// The handle to a running ledger. Cheap to clone; every clone talks to the same writer.
#[derive(Clone)]
pub struct DurableLedger {
    commands: mpsc::Sender<Message>,
    db: Db,
    commit_times: Arc<CommitTimes>,
    role: watch::Receiver<Role>,
}

/// How long recent commits took, for benchmarks and operators.
#[derive(Default)]
pub(crate) struct CommitTimes(std::sync::Mutex<std::collections::VecDeque<Duration>>);

impl CommitTimes {
    /// Enough for a long benchmark run; older samples are dropped first.
    const KEPT: usize = 100_000;

    pub fn record(&self, took: Duration) {
        let mut times = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if times.len() == Self::KEPT {
            times.pop_front();
        }
        times.push_back(took);
    }
}

/// How many transfers one commit may carry at most.
pub const DEFAULT_MAX_BATCH: usize = 8_190;

/// Milliseconds since the unix epoch. Tests substitute a clock they move themselves.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| Timestamp::now().as_millis())
}

impl DurableLedger {
    /// Starts the ledger of this node: it writes when it holds the `ledger` lease of the
    /// database, and forwards to the node that does otherwise.
    pub async fn open(db: Db, max_batch: usize) -> Result<DurableLedger, LedgerError> {
        Self::open_with_clock(db, max_batch, system_clock()).await
    }

    pub async fn open_with_clock(
        db: Db,
        max_batch: usize,
        clock: Clock,
    ) -> Result<DurableLedger, LedgerError> {
        let (commands, inbox) = mpsc::channel(1024);
        let commit_times = Arc::new(CommitTimes::default());
        // Until it knows whether it writes, the ledger is starting as a writer would.
        let (role, watched) = watch::channel(Role::TakingOver);
        let writer = Writer {
            lease: Lease::new(&db, "ledger"),
            db: db.clone(),
            commit_times: commit_times.clone(),
            inbox,
            max_batch: max_batch.max(1),
            clock,
            role,
            forwarded: Default::default(),
            unsettled: Vec::new(),
        };
        tokio::spawn(writer.run());
        Ok(DurableLedger {
            commands,
            db,
            commit_times,
            role: watched,
        })
    }

    /// Whether this node writes the ledger now.
    pub fn role(&self) -> Role {
        *self.role.borrow()
    }

    /// Opens accounts; opening an identical account again is a no-op.
    pub async fn open_accounts(
        &self,
        accounts: Vec<Account>,
    ) -> Result<AccountResults, LedgerError> {
        match self.ask(Request::OpenAccounts(accounts)).await? {
            Reply::Accounts(results) => Ok(results),
            Reply::Transfers(_) => Err(mismatched_reply()),
        }
    }

    /// Submits transfers, answered once they are durable. Results are in the batch's order.
    pub async fn submit(&self, transfers: Vec<Transfer>) -> Result<TransferResults, LedgerError> {
        match self.ask(Request::Transfers(transfers)).await? {
            Reply::Transfers(results) => Ok(results),
            Reply::Accounts(_) => Err(mismatched_reply()),
        }
    }

    async fn ask(&self, request: Request) -> Result<Reply, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Message::Command(Command { request, reply }))
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// The durations of the commits since the last call, oldest first.
    pub fn take_commit_times(&self) -> Vec<Duration> {
        let mut times = self
            .commit_times
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        times.drain(..).collect()
    }

    /// Stops the writer once the work submitted before is committed (or, on a node that
    /// forwards, answered), releasing its lease. Later submissions fail with
    /// [`LedgerError::Stopped`].
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Message::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }

    pub async fn account(&self, id: AccountId) -> Result<Option<Account>, LedgerError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(account_from_row).transpose()?)
    }

    /// The account of a kind that an owner holds in a currency, if it has been opened.
    pub async fn account_of(
        &self,
        code: i64,
        owner: &str,
        currency: Currency,
    ) -> Result<Option<Account>, LedgerError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE code = $1 AND owner = $2 AND currency = $3");
        let row = sqlx::query(&sql)
            .bind(code)
            .bind(owner)
            .bind(currency.code())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(account_from_row).transpose()?)
    }

    /// Every account, by id (for trial balances and audits).
    pub async fn all_accounts(&self) -> Result<Vec<Account>, LedgerError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(self.db.pool()).await?;
        Ok(rows
            .iter()
            .map(account_from_row)
            .collect::<Result<_, _>>()?)
    }

    pub async fn transfer(&self, id: TransferId) -> Result<Option<StoredTransfer>, LedgerError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.as_ref().map(stored_from_row).transpose()?)
    }

    /// The transfers with these ids that exist, in no particular order.
    pub async fn transfers(&self, ids: &[TransferId]) -> Result<Vec<StoredTransfer>, LedgerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id IN ({list})");
        let rows = sqlx::query(&sql).fetch_all(self.db.pool()).await?;
        Ok(rows.iter().map(stored_from_row).collect::<Result<_, _>>()?)
    }

    /// The account's transfers, newest id first, before `before` when given.
    pub async fn history(
        &self,
        account: AccountId,
        before: Option<TransferId>,
        limit: u32,
    ) -> Result<Vec<StoredTransfer>, LedgerError> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers \
             WHERE (debit_account_id = $1 OR credit_account_id = $1) AND id < $2 ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(account)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().map(stored_from_row).collect::<Result<_, _>>()?)
    }
}

fn mismatched_reply() -> LedgerError {
    LedgerError::Database(sqlx::Error::Protocol(
        "the ledger answered another kind of request".into(),
    ))
}

const ACCOUNT_COLUMNS: &str = "id, currency, code, owner, flags, debits_pending, debits_posted, \
    credits_pending, credits_posted, created_at";
const TRANSFER_COLUMNS: &str =
    "id, debit_account_id, credit_account_id, amount, currency, code, flags, \
    pending_id, timeout_seconds, memo, created_at";
/// Rows per multi-row statement: well under both databases' limits on bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

fn currency_of(row: &AnyRow, column: &str) -> Result<Currency, sqlx::Error> {
    let code: String = row.try_get(column)?;
    Currency::parse(&code).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn account_from_row(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        currency: currency_of(row, "currency")?,
        code: row.try_get("code")?,
        owner: row.try_get("owner")?,
        flags: AccountFlags::from_bits(row.try_get("flags")?),
        balance: Balance {
            debits_pending: row.try_get("debits_pending")?,
            debits_posted: row.try_get("debits_posted")?,
            credits_pending: row.try_get("credits_pending")?,
            credits_posted: row.try_get("credits_posted")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

fn stored_from_row(row: &AnyRow) -> Result<StoredTransfer, sqlx::Error> {
    let (kind, linked) = Transfer::from_flag_bits(row.try_get("flags")?);
    Ok(StoredTransfer {
        transfer: Transfer {
            id: row.try_get("id")?,
            debit_account_id: row.try_get("debit_account_id")?,
            credit_account_id: row.try_get("credit_account_id")?,
            amount: row.try_get("amount")?,
            currency: currency_of(row, "currency")?,
            code: row.try_get("code")?,
            kind,
            linked,
            pending_id: row.try_get("pending_id")?,
            timeout_seconds: row.try_get("timeout_seconds")?,
            memo: row.try_get("memo")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) async fn fetch_transfers(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[TransferId],
) -> Result<HashMap<TransferId, Transfer>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let list = values_placeholders(backend, 1, chunk.len());
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id IN {list}");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let stored = stored_from_row(&row)?;
            found.insert(stored.transfer.id, stored.transfer);
        }
    }
    Ok(found)
}

/// Begins the writer's transaction (on SQLite taking the write lock at once).
pub(crate) async fn begin(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => conn.begin().await,
    }
}

/// Writes one group's changes: accepted transfers, expiries, and the balances of every account
/// touched.
pub(crate) async fn write_journal(
    tx: &mut AnyConnection,
    backend: Backend,
    ledger: &Ledger,
    journal: &Journal,
) -> Result<(), sqlx::Error> {
    let touched: Vec<&Account> = journal
        .touched_accounts()
        .iter()
        .filter_map(|id| ledger.account(*id))
        .collect();
    for chunk in touched.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO ledger_accounts ({ACCOUNT_COLUMNS}) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             debits_pending = excluded.debits_pending, debits_posted = excluded.debits_posted, \
             credits_pending = excluded.credits_pending, credits_posted = excluded.credits_posted",
            values_placeholders(backend, chunk.len(), 10)
        );
        let mut query = sqlx::query(&sql);
        for a in chunk {
            query = query
                .bind(a.id)
                .bind(a.currency.code().to_owned())
                .bind(a.code)
                .bind(a.owner.clone())
                .bind(a.flags.bits())
                .bind(a.balance.debits_pending)
                .bind(a.balance.debits_posted)
                .bind(a.balance.credits_pending)
                .bind(a.balance.credits_posted)
                .bind(a.created_at);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in journal.created.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO ledger_transfers ({TRANSFER_COLUMNS}) VALUES {}",
            values_placeholders(backend, chunk.len(), 11)
        );
        let mut query = sqlx::query(&sql);
        for (t, at) in chunk {
            query = query
                .bind(t.id)
                .bind(t.debit_account_id)
                .bind(t.credit_account_id)
                .bind(t.amount)
                .bind(t.currency.code().to_owned())
                .bind(t.code)
                .bind(t.flag_bits())
                .bind(t.pending_id)
                .bind(t.timeout_seconds)
                .bind(t.memo.clone())
                .bind(*at);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in journal.expired.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO ledger_expiries (pending_id, expired_at) VALUES {}",
            values_placeholders(backend, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (id, at) in chunk {
            query = query.bind(*id).bind(*at);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Rebuilds the in-memory ledger from the database: accounts with their balances, and every
/// pending transfer with how it was resolved.
pub(crate) async fn load(conn: &mut AnyConnection) -> Result<Ledger, sqlx::Error> {
    let mut ledger = Ledger::new();
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts");
    for row in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        ledger.load_account(account_from_row(&row)?);
    }
    let resolutions: HashMap<TransferId, PendingState> = sqlx::query(
        "SELECT pending_id, flags FROM ledger_transfers WHERE pending_id IS NOT NULL \
         UNION ALL SELECT pending_id, -1 FROM ledger_expiries",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        let flags: i64 = row.try_get(1)?;
        let state = match (flags, Transfer::from_flag_bits(flags).0) {
            (-1, _) => PendingState::Expired,
            (_, TransferKind::PostPending) => PendingState::Posted,
            _ => PendingState::Voided,
        };
        Ok((row.try_get(0)?, state))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let sql = format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE flags IN (2, 3)");
    for row in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        let StoredTransfer {
            transfer: t,
            created_at,
        } = stored_from_row(&row)?;
        let pending = Pending {
            debit_account_id: t.debit_account_id,
            credit_account_id: t.credit_account_id,
            amount: t.amount,
            currency: t.currency,
            expires_at: (t.timeout_seconds > 0).then(|| created_at + t.timeout_seconds * 1000),
            state: resolutions
                .get(&t.id)
                .copied()
                .unwrap_or(PendingState::Open),
        };
        ledger.load_pending(t.id, pending);
    }
    Ok(ledger)
}
