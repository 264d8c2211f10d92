//! Submissions from nodes that do not write the ledger. Such a node gathers its waiting
//! submissions into one row of `ledger_requests` and `NOTIFY`s the writer; the writer claims
//! rows (`FOR UPDATE SKIP LOCKED`) inside the transaction that commits their transfers and
//! writes their answers in it too, so a request is answered exactly when its work is durable,
//! and a writer that dies mid-way leaves it waiting for the next one. The asking node hears
//! `NOTIFY` (or polls), hands out the answers and removes the rows.
//!
//! A request nobody took within [`GIVE_UP_AFTER`] is withdrawn (deleted while still
//! unanswered) and fails with [`LedgerError::NoWriter`]: nothing of it was applied.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kernel::Timestamp;
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, Row};
use store::lease::Held;
use store::{values_placeholders, Backend, Db};

use crate::durable::{
    Command, LedgerError, Message, Reply, ReplyTo, Request, Role, ROWS_PER_STATEMENT,
};
use crate::writer::{Stop, Writer};

/// Heard by the writer: a request is waiting.
pub(crate) const ASKED: &str = "hongshu_ledger_asked";
/// Heard by the asking nodes: requests were answered.
const ANSWERED: &str = "hongshu_ledger_answered";
/// How long a forwarded request may wait for a writer.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// How often a node with requests waiting looks for answers it may not have heard of.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Rows the writer takes into one commit at most.
pub(crate) const CLAIM_AT_ONCE: usize = 64;

/// The writer's answer to one row: a reply per request, or why it could not be read.
pub(crate) type Answer = Result<Vec<Reply>, String>;

/// A row the writer claimed.
pub(crate) struct Claimed {
    pub id: i64,
    pub requests: Result<Vec<Request>, String>,
}

/// This node's forwarded requests, by row id.
#[derive(Default)]
pub(crate) struct Forwarded {
    waiting: HashMap<i64, Waiting>,
}

struct Waiting {
    replies: Vec<ReplyTo>,
    since: Instant,
}

impl Forwarded {
    fn ids(&self) -> Vec<i64> {
        self.waiting.keys().copied().collect()
    }

    pub fn contains(&self, id: i64) -> bool {
        self.waiting.contains_key(&id)
    }

    /// Hands the answer of row `id` to its callers.
    pub fn answer(&mut self, id: i64, answer: Answer) {
        let Some(waiting) = self.waiting.remove(&id) else {
            return;
        };
        match answer {
            Ok(replies) if replies.len() == waiting.replies.len() => {
                for (to, reply) in waiting.replies.into_iter().zip(replies) {
                    let _ = to.send(Ok(reply));
                }
            }
            Ok(_) | Err(_) => {
                let error = answer
                    .err()
                    .unwrap_or_else(|| "answer of another size".into());
                fail(
                    waiting,
                    &LedgerError::Database(sqlx::Error::Protocol(error)),
                );
            }
        }
    }

    fn overdue(&self) -> Vec<i64> {
        self.waiting
            .iter()
            .filter(|(_, w)| w.since.elapsed() >= GIVE_UP_AFTER)
            .map(|(id, _)| *id)
            .collect()
    }

    fn fail(&mut self, id: i64, error: &LedgerError) {
        if let Some(waiting) = self.waiting.remove(&id) {
            fail(waiting, error);
        }
    }
}

fn fail(waiting: Waiting, error: &LedgerError) {
    for to in waiting.replies {
        let _ = to.send(Err(error.again()));
    }
}

impl Writer {
    /// Forwards this node's submissions until it is given the lease (or stopped).
    pub(crate) async fn follow(&mut self) -> Result<Held, Stop> {
        let lease = self.lease.clone();
        // A free lease is taken before anything is forwarded; on SQLite it always is free.
        if self.db.backend() == Backend::Sqlite {
            return Ok(lease.acquire().await);
        }
        match lease.try_acquire().await {
            Ok(Some(held)) => return Ok(held),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot ask for the ledger's lease"),
        }
        self.role.send_replace(Role::Following);
        let acquire = lease.acquire();
        tokio::pin!(acquire);
        let mut listener = self.listen(ANSWERED).await;
        let unsettled = std::mem::take(&mut self.unsettled);
        self.forward(unsettled).await;
        let mut poll = tokio::time::interval(POLL_EVERY);
        loop {
            tokio::select! {
                biased;
                held = &mut acquire => return Ok(held),
                message = self.inbox.recv() => match message {
                    None => return Err(None),
                    Some(Message::Stop(done)) => {
                        self.wait_for_answers().await;
                        return Err(Some(done));
                    }
                    Some(Message::Command(first)) => {
                        let mut group = vec![first];
                        let stop = self.gather(&mut group);
                        self.forward(group).await;
                        if let Some(done) = stop {
                            self.wait_for_answers().await;
                            return Err(Some(done));
                        }
                    }
                },
                () = notice(&mut listener) => collect_answers(&self.db, &mut self.forwarded).await,
                _ = poll.tick() => {
                    if self.forwarded.waiting.is_empty() {
                        continue;
                    }
                    if listener.is_none() {
                        listener = self.listen(ANSWERED).await;
                    }
                    collect_answers(&self.db, &mut self.forwarded).await;
                    self.withdraw_overdue().await;
                }
            }
        }
    }

    /// Writes one row with the group's requests, and tells the writer.
    async fn forward(&mut self, group: Vec<Command>) {
        if group.is_empty() {
            return;
        }
        let (requests, replies): (Vec<Request>, Vec<ReplyTo>) =
            group.into_iter().map(|c| (c.request, c.reply)).unzip();
        let waiting = Waiting {
            replies,
            since: Instant::now(),
        };
        let payload = match serde_json::to_string(&requests) {
            Ok(payload) => payload,
            Err(e) => {
                let error = sqlx::Error::Protocol(format!("cannot encode a request: {e}"));
                return fail(waiting, &LedgerError::Database(error));
            }
        };
        match insert_request(&self.db, &payload).await {
            Ok(id) => {
                self.forwarded.waiting.insert(id, waiting);
            }
            Err(e) => fail(waiting, &LedgerError::Database(e)),
        }
    }

    /// Withdraws requests no writer took in time; one answered meanwhile is kept for collecting.
    async fn withdraw_overdue(&mut self) {
        for id in self.forwarded.overdue() {
            let withdrawn =
                sqlx::query("DELETE FROM ledger_requests WHERE id = $1 AND answer IS NULL")
                    .bind(id)
                    .execute(self.db.writer())
                    .await;
            match withdrawn {
                Ok(done) if done.rows_affected() == 1 => {
                    self.forwarded.fail(id, &LedgerError::NoWriter);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot withdraw a ledger request"),
            }
        }
    }

    /// Before stopping: collects answers for what this node forwarded, for a while; what is
    /// still waiting then fails with `Stopped` (a writer may still apply it: retrying the same
    /// transfer ids is safe).
    async fn wait_for_answers(&mut self) {
        let until = Instant::now() + Duration::from_secs(10);
        while !self.forwarded.waiting.is_empty() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
            collect_answers(&self.db, &mut self.forwarded).await;
        }
        for id in self.forwarded.ids() {
            self.forwarded.fail(id, &LedgerError::Stopped);
        }
    }
}

/// Waits for a notice; never returns without a listener.
pub(crate) async fn notice(listener: &mut Option<PgListener>) {
    let Some(heard) = listener else {
        return std::future::pending().await;
    };
    if let Err(e) = heard.recv().await {
        tracing::warn!(error = %e, "lost the ledger's notices; polling until heard again");
        *listener = None;
    }
}

/// Inserts a request under a new time-ordered id; returns the id.
async fn insert_request(db: &Db, payload: &str) -> Result<i64, sqlx::Error> {
    let now = Timestamp::now().as_millis();
    let mut attempt = 0;
    loop {
        let id = request_id(now, attempt);
        let inserted =
            sqlx::query("INSERT INTO ledger_requests (id, payload, asked_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(payload)
                .bind(now)
                .execute(db.writer())
                .await;
        match inserted {
            Ok(_) => break notify(db, ASKED).await.map(|()| id),
            Err(e) if store::is_unique_violation(&e) && attempt < 8 => attempt += 1,
            Err(e) => break Err(e),
        }
    }
}

/// Milliseconds in the high bits (requests are taken roughly in the order asked), then bits of
/// this process and a counter, so that two nodes asking in the same millisecond rarely collide
/// (a collision is retried under another id).
fn request_id(now_ms: i64, attempt: u32) -> i64 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let low = std::process::id()
        .wrapping_mul(2_654_435_761)
        .wrapping_add(count)
        .wrapping_add(attempt.wrapping_mul(7_919));
    (now_ms << 20) | i64::from(low & 0xF_FFFF)
}

async fn notify(db: &Db, channel: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel)
        .execute(db.pool())
        .await
        .map(drop)
}

/// Hands out the answers that have come for this node's requests, and removes their rows.
pub(crate) async fn collect_answers(db: &Db, forwarded: &mut Forwarded) {
    if let Err(e) = try_collect_answers(db, forwarded).await {
        tracing::warn!(error = %e, "cannot read the ledger's answers; trying again");
    }
}

async fn try_collect_answers(db: &Db, forwarded: &mut Forwarded) -> Result<(), sqlx::Error> {
    for chunk in forwarded.ids().chunks(ROWS_PER_STATEMENT) {
        let list = values_placeholders(db.backend(), 1, chunk.len());
        let sql = format!(
            "SELECT id, answer FROM ledger_requests WHERE answer IS NOT NULL AND id IN {list}"
        );
        let rows = store::bind_all(
            sqlx::query_as::<_, (i64, String)>(&sql),
            chunk.iter().copied(),
        )
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            continue;
        }
        let done: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let list = values_placeholders(db.backend(), 1, done.len());
        let sql = format!("DELETE FROM ledger_requests WHERE id IN {list}");
        let mut delete = sqlx::query(&sql);
        for id in &done {
            delete = delete.bind(*id);
        }
        delete.execute(db.writer()).await?;
        for (id, answer) in rows {
            let answer = serde_json::from_str::<Answer>(&answer)
                .unwrap_or_else(|e| Err(format!("cannot read the ledger's answer: {e}")));
            forwarded.answer(id, answer);
        }
    }
    Ok(())
}

/// In the writer's transaction: the oldest waiting rows, locked for it (another writer, were
/// there one, would pass them by).
pub(crate) async fn claim(
    tx: &mut AnyConnection,
    limit: usize,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, payload FROM ledger_requests WHERE answer IS NULL \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(Claimed {
                id: row.try_get("id")?,
                requests: serde_json::from_str(&payload)
                    .map_err(|e| format!("cannot read the request: {e}")),
            })
        })
        .collect()
}

/// In the writer's transaction: stores each claimed row's answer and wakes the nodes that
/// asked. Rows this node forwarded itself are removed instead, their answers returned.
pub(crate) async fn write_answers(
    tx: &mut AnyConnection,
    answers: Vec<(i64, Answer)>,
    own: &Forwarded,
) -> Result<Vec<(i64, Answer)>, sqlx::Error> {
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    let now = Timestamp::now().as_millis();
    let (mine, others): (Vec<_>, Vec<_>) =
        answers.into_iter().partition(|(id, _)| own.contains(*id));
    for (id, answer) in &others {
        let text = serde_json::to_string(answer)
            .map_err(|e| sqlx::Error::Protocol(format!("cannot encode an answer: {e}")))?;
        sqlx::query("UPDATE ledger_requests SET answer = $1, answered_at = $2 WHERE id = $3")
            .bind(text)
            .bind(now)
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    for (id, _) in &mine {
        sqlx::query("DELETE FROM ledger_requests WHERE id = $1")
            .bind(*id)
            .execute(&mut *tx)
            .await?;
    }
    if !others.is_empty() {
        // Delivered when the transaction commits.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(ANSWERED)
            .execute(&mut *tx)
            .await?;
    }
    Ok(mine)
}

/// Removes answers nobody came back for (their node died while waiting).
pub(crate) async fn remove_answered_before(db: &Db, age: Duration) {
    let before = Timestamp::now().as_millis() - i64::try_from(age.as_millis()).unwrap_or(0);
    if let Err(e) = sqlx::query("DELETE FROM ledger_requests WHERE answered_at < $1")
        .bind(before)
        .execute(db.writer())
        .await
    {
        tracing::warn!(error = %e, "cannot remove old ledger answers");
    }
}
