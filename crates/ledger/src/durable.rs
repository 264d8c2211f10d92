//! The ledger made durable. One writer task owns the in-memory [`Ledger`] and a dedicated
//! database connection. It gathers whatever submissions are waiting (up to a batch limit),
//! applies them in memory, writes the accepted transfers, expiries and new balances in one
//! transaction, and answers each caller only after that commit: group commit. On SQLite the
//! writer's connection uses `synchronous = FULL`, so an acknowledged transfer survives a power
//! cut, not only a crash; one fsync is shared by the whole group.
//!
//! Reads (balances, history, trial balance) go to the database through the pool: committed
//! state only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kernel::{Currency, Timestamp};
use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Row};
use store::{values_placeholders, Backend, Db};
use tokio::sync::{mpsc, oneshot};

use crate::engine::{AccountError, Journal, Ledger};
use crate::types::{
    Account, AccountFlags, AccountId, Balance, Outcome, Pending, PendingState, Transfer,
    TransferError, TransferId, TransferKind,
};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the ledger's database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the ledger has stopped")]
    Stopped,
}

pub type TransferResults = Vec<Result<Outcome, TransferError>>;
pub type AccountResults = Vec<Result<Outcome, AccountError>>;

/// What the writer is sent: work, or the request to stop.
enum Message {
    Command(Command),
    /// Finish what is queued before it, release the connection, then answer.
    Stop(oneshot::Sender<()>),
}

enum Command {
    OpenAccounts(
        Vec<Account>,
        oneshot::Sender<Result<AccountResults, LedgerError>>,
    ),
    Transfers(
        Vec<Transfer>,
        oneshot::Sender<Result<TransferResults, LedgerError>>,
    ),
}

impl Command {
    fn size(&self) -> usize {
        match self {
            Command::OpenAccounts(accounts, _) => accounts.len().max(1),
            Command::Transfers(transfers, _) => transfers.len().max(1),
        }
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
}

/// How long recent commits took, for benchmarks and operators.
#[derive(Default)]
struct CommitTimes(std::sync::Mutex<std::collections::VecDeque<Duration>>);

impl CommitTimes {
    /// Enough for a long benchmark run; older samples are dropped first.
    const KEPT: usize = 100_000;

    fn record(&self, took: Duration) {
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
    /// Loads the ledger from the database and starts its writer.
    pub async fn open(db: Db, max_batch: usize) -> Result<DurableLedger, LedgerError> {
        Self::open_with_clock(db, max_batch, system_clock()).await
    }

    pub async fn open_with_clock(
        db: Db,
        max_batch: usize,
        clock: Clock,
    ) -> Result<DurableLedger, LedgerError> {
        let mut conn = db.pool().acquire().await?;
        if db.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *conn)
                .await?;
        }
        let ledger = load(&mut conn).await?;
        let (commands, inbox) = mpsc::channel(1024);
        let commit_times = Arc::new(CommitTimes::default());
        let writer = Writer {
            commit_times: commit_times.clone(),
            conn,
            backend: db.backend(),
            ledger,
            inbox,
            max_batch: max_batch.max(1),
            clock,
        };
        tokio::spawn(writer.run());
        Ok(DurableLedger {
            commands,
            db,
            commit_times,
        })
    }

    /// Opens accounts; opening an identical account again is a no-op.
    pub async fn open_accounts(
        &self,
        accounts: Vec<Account>,
    ) -> Result<AccountResults, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::OpenAccounts(accounts, reply)).await?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Submits transfers, answered once they are durable. Results are in the batch's order.
    pub async fn submit(&self, transfers: Vec<Transfer>) -> Result<TransferResults, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Transfers(transfers, reply)).await?;
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

    async fn send(&self, command: Command) -> Result<(), LedgerError> {
        self.commands
            .send(Message::Command(command))
            .await
            .map_err(|_| LedgerError::Stopped)
    }

    /// Stops the writer once the work submitted before is committed, releasing its database
    /// connection (a pool cannot close while the writer holds one). Later submissions fail
    /// with [`LedgerError::Stopped`].
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

struct Writer {
    conn: PoolConnection<Any>,
    backend: Backend,
    ledger: Ledger,
    inbox: mpsc::Receiver<Message>,
    max_batch: usize,
    clock: Clock,
    commit_times: Arc<CommitTimes>,
}

impl Writer {
    async fn run(mut self) {
        loop {
            let first = match self.next_message_or_expiry().await {
                None => return,
                Some(Some(Message::Stop(done))) => return self.stop(done),
                Some(Some(Message::Command(command))) => Some(command),
                Some(None) => None,
            };
            let mut group: Vec<Command> = first.into_iter().collect();
            let mut size: usize = group.iter().map(Command::size).sum();
            let mut stop = None;
            while size < self.max_batch {
                match self.inbox.try_recv() {
                    Ok(Message::Command(command)) => {
                        size += command.size();
                        group.push(command);
                    }
                    Ok(Message::Stop(done)) => {
                        stop = Some(done);
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.apply_group(group).await;
            if let Some(done) = stop {
                return self.stop(done);
            }
        }
    }

    fn stop(self, done: oneshot::Sender<()>) {
        drop(self);
        let _ = done.send(());
    }

    /// Waits for a message, or until the next pending transfer expires (`Some(None)`).
    /// `None` when every handle is gone.
    async fn next_message_or_expiry(&mut self) -> Option<Option<Message>> {
        let Some(at) = self.ledger.next_expiry() else {
            return self.inbox.recv().await.map(Some);
        };
        let wait = Duration::from_millis(u64::try_from(at - (self.clock)()).unwrap_or(0));
        tokio::select! {
            command = self.inbox.recv() => command.map(Some),
            () = tokio::time::sleep(wait) => Some(None),
        }
    }

    async fn apply_group(&mut self, group: Vec<Command>) {
        let ids = referenced_ids(&group);
        let stored = match fetch_transfers(&mut self.conn, self.backend, &ids).await {
            Ok(stored) => stored,
            Err(e) => return fail_all(group, &e),
        };
        let now = (self.clock)();
        let mut journal = Journal::default();
        self.ledger.expire_due(now, &mut journal);
        let mut answers = Vec::with_capacity(group.len());
        for command in group {
            match command {
                Command::OpenAccounts(accounts, reply) => {
                    let results = accounts
                        .into_iter()
                        .map(|a| self.ledger.open_account(a, &mut journal))
                        .collect();
                    answers.push(Answer::Accounts(reply, results));
                }
                Command::Transfers(transfers, reply) => {
                    let lookup = |id| stored.get(&id).cloned();
                    let results = self.ledger.execute(&transfers, now, &lookup, &mut journal);
                    answers.push(Answer::Transfers(reply, results));
                }
            }
        }
        if !journal.is_empty() {
            let started = std::time::Instant::now();
            let committed = commit(&mut self.conn, self.backend, &self.ledger, &journal).await;
            self.commit_times.record(started.elapsed());
            if let Err(e) = committed {
                tracing::error!(error = %e, "ledger commit failed; reloading from the database");
                self.reload().await;
                return answers.into_iter().for_each(|a| a.fail(&e));
            }
        }
        answers.into_iter().for_each(Answer::send);
    }

    /// After a failed commit the database is the truth: rebuild memory from it, retrying until
    /// the database answers. Submissions wait in the channel meanwhile.
    async fn reload(&mut self) {
        loop {
            match load(&mut self.conn).await {
                Ok(ledger) => {
                    self.ledger = ledger;
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot reload the ledger; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

enum Answer {
    Accounts(
        oneshot::Sender<Result<AccountResults, LedgerError>>,
        AccountResults,
    ),
    Transfers(
        oneshot::Sender<Result<TransferResults, LedgerError>>,
        TransferResults,
    ),
}

impl Answer {
    fn send(self) {
        // A caller that stopped waiting loses nothing: its transfers are committed.
        match self {
            Answer::Accounts(reply, results) => drop(reply.send(Ok(results))),
            Answer::Transfers(reply, results) => drop(reply.send(Ok(results))),
        }
    }

    fn fail(self, error: &sqlx::Error) {
        let error = || LedgerError::Database(sqlx::Error::Protocol(error.to_string()));
        match self {
            Answer::Accounts(reply, _) => drop(reply.send(Err(error()))),
            Answer::Transfers(reply, _) => drop(reply.send(Err(error()))),
        }
    }
}

fn fail_all(group: Vec<Command>, error: &sqlx::Error) {
    for command in group {
        let answer = match command {
            Command::OpenAccounts(_, reply) => Answer::Accounts(reply, Vec::new()),
            Command::Transfers(_, reply) => Answer::Transfers(reply, Vec::new()),
        };
        answer.fail(error);
    }
}

/// Ids whose committed transfers the group may need: its own (retries) and the pending
/// transfers it resolves.
fn referenced_ids(group: &[Command]) -> Vec<TransferId> {
    let mut ids: Vec<TransferId> = group
        .iter()
        .flat_map(|command| match command {
            Command::Transfers(transfers, _) => transfers.as_slice(),
            Command::OpenAccounts(..) => &[],
        })
        .flat_map(|t| std::iter::once(t.id).chain(t.pending_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

const ACCOUNT_COLUMNS: &str = "id, currency, code, owner, flags, debits_pending, debits_posted, \
    credits_pending, credits_posted, created_at";
const TRANSFER_COLUMNS: &str =
    "id, debit_account_id, credit_account_id, amount, currency, code, flags, \
    pending_id, timeout_seconds, memo, created_at";
/// Rows per multi-row statement: well under both databases' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

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

async fn fetch_transfers(
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

/// Writes one group: accepted transfers, expiries, and the balances of every account touched.
async fn commit(
    conn: &mut AnyConnection,
    backend: Backend,
    ledger: &Ledger,
    journal: &Journal,
) -> Result<(), sqlx::Error> {
    let mut tx = match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    };
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
    tx.commit().await
}

/// Rebuilds the in-memory ledger from the database: accounts with their balances, and every
/// pending transfer with how it was resolved.
async fn load(conn: &mut AnyConnection) -> Result<Ledger, sqlx::Error> {
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
