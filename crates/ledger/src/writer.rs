//! The ledger's writer task: it follows while another node holds the `ledger` lease (see
//! [`crate::forward`]) and writes once it holds it — group commit through the lease's own
//! connection, taking this node's submissions and those other nodes left in `ledger_requests`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use store::lease::{Held, Lease};
use store::{Backend, Db};
use tokio::sync::{mpsc, oneshot, watch};

use crate::durable::{
    begin, fetch_transfers, load, write_journal, Clock, Command, CommitTimes, LedgerError, Message,
    Reply, Request, Role,
};
use crate::engine::{Journal, Ledger};
use crate::forward::{self, Answer, Forwarded};
use crate::types::TransferId;

/// How often the writer makes sure it still holds its lease, and looks for forwarded requests
/// whose notice it may have missed.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Answered requests whose asker never came back for them are removed after this long.
const KEEP_ANSWERS: Duration = Duration::from_secs(600);

pub(crate) struct Writer {
    pub db: Db,
    pub lease: Lease,
    pub inbox: mpsc::Receiver<Message>,
    pub max_batch: usize,
    pub clock: Clock,
    pub commit_times: Arc<CommitTimes>,
    pub role: watch::Sender<Role>,
    /// This node's submissions forwarded to another writer and not yet answered.
    pub forwarded: Forwarded,
    /// Submissions whose commit failed because this node lost the lease: forwarded to the
    /// next writer (a commit that did land before the connection died makes them retries).
    pub unsettled: Vec<Command>,
}

/// Why the writer left a role: asked to stop (`None` when every handle is gone) …
pub(crate) type Stop = Option<oneshot::Sender<()>>;

/// The ledger as this node writes it.
struct Leading {
    held: Held,
    ledger: Ledger,
    /// Hears other nodes' submissions (PostgreSQL).
    listener: Option<PgListener>,
}

/// What woke the leading writer.
enum Wake {
    Message(Option<Message>),
    Asked,
    Expiry,
    Check,
}

impl Writer {
    pub async fn run(mut self) {
        loop {
            let held = match self.follow().await {
                Ok(held) => held,
                Err(stop) => return self.stop(stop),
            };
            if let Err(stop) = self.lead(held).await {
                return self.stop(stop);
            }
        }
    }

    fn stop(self, stop: Stop) {
        drop(self);
        if let Some(done) = stop {
            let _ = done.send(());
        }
    }

    /// Writes until the lease is lost (`Ok`) or the writer is stopped.
    async fn lead(&mut self, held: Held) -> Result<(), Stop> {
        self.role.send_replace(Role::TakingOver);
        let Some(mut leading) = self.take_over(held).await else {
            return Ok(());
        };
        self.role.send_replace(Role::Leading);
        let postgres = self.db.backend() == Backend::Postgres;
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_sweep = Instant::now();
        // Whatever other nodes queued before this one took over.
        let mut asked = postgres;
        loop {
            let wake = if asked {
                Wake::Asked
            } else {
                self.next_wake(&mut leading, &mut check).await
            };
            let claim = postgres && matches!(wake, Wake::Asked | Wake::Check);
            let expiring = matches!(wake, Wake::Expiry);
            let mut group = Vec::new();
            match wake {
                Wake::Message(None) => return Err(None),
                Wake::Message(Some(Message::Stop(done))) => return Err(Some(done)),
                Wake::Message(Some(Message::Command(command))) => group.push(command),
                Wake::Asked | Wake::Expiry => {}
                Wake::Check => {
                    if !leading.held.still_held().await {
                        return Ok(());
                    }
                    if leading.listener.is_none() {
                        leading.listener = self.listen(forward::ASKED).await;
                    }
                    if last_sweep.elapsed() >= KEEP_ANSWERS {
                        forward::remove_answered_before(&self.db, KEEP_ANSWERS).await;
                        last_sweep = Instant::now();
                    }
                }
            }
            let stop = self.gather(&mut group);
            // A check with nothing to apply opens no transaction (on SQLite it would take the
            // write lock every second).
            if group.is_empty() && !claim && !expiring {
                match stop {
                    Some(done) => return Err(Some(done)),
                    None => continue,
                }
            }
            match self.apply_group(&mut leading, group, claim).await {
                Ok(more_waiting) => asked = more_waiting,
                Err((error, group)) => {
                    if !leading.held.still_held().await {
                        self.unsettled = group;
                        return Ok(());
                    }
                    tracing::error!(error = %error, "ledger commit failed; reloading from the database");
                    for command in group {
                        let _ = command.reply.send(Err(error.again()));
                    }
                    self.reload(&mut leading).await;
                    asked = postgres;
                }
            }
            if let Some(done) = stop {
                return Err(Some(done));
            }
        }
    }

    /// Loads the ledger through the lease's connection; `None` when the lease is lost first.
    async fn take_over(&mut self, mut held: Held) -> Option<Leading> {
        if self.db.backend() == Backend::Sqlite {
            let durable = sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *held.connection())
                .await;
            if let Err(e) = durable {
                tracing::error!(error = %e, "cannot make the ledger's commits durable");
                return None;
            }
        }
        let ledger = loop {
            match load(held.connection()).await {
                Ok(ledger) => break ledger,
                Err(e) => {
                    tracing::error!(error = %e, "cannot load the ledger; retrying");
                    if !held.still_held().await {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let listener = self.listen(forward::ASKED).await;
        // Requests this node forwarded that the last writer answered.
        forward::collect_answers(&self.db, &mut self.forwarded).await;
        Some(Leading {
            held,
            ledger,
            listener,
        })
    }

    /// After a failed commit the database is the truth: rebuild memory from it.
    async fn reload(&mut self, leading: &mut Leading) {
        loop {
            match load(leading.held.connection()).await {
                Ok(ledger) => return leading.ledger = ledger,
                Err(e) => {
                    tracing::error!(error = %e, "cannot reload the ledger; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// On PostgreSQL, a connection hearing `channel`; `None` on SQLite or when it cannot be had
    /// (then polling covers it).
    pub async fn listen(&self, channel: &str) -> Option<PgListener> {
        if self.db.backend() != Backend::Postgres {
            return None;
        }
        match self.db.listen(&[channel]).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes; polling instead");
                None
            }
        }
    }

    async fn next_wake(
        &mut self,
        leading: &mut Leading,
        check: &mut tokio::time::Interval,
    ) -> Wake {
        let expiry = leading
            .ledger
            .next_expiry()
            .map(|at| Duration::from_millis(u64::try_from(at - (self.clock)()).unwrap_or(0)));
        tokio::select! {
            message = self.inbox.recv() => Wake::Message(message),
            () = forward::notice(&mut leading.listener) => Wake::Asked,
            () = sleep_or_never(expiry) => Wake::Expiry,
            _ = check.tick() => Wake::Check,
        }
    }

    /// Adds what else waits in the inbox to `group`, up to the batch limit; returns a stop
    /// request met on the way.
    pub fn gather(&mut self, group: &mut Vec<Command>) -> Option<oneshot::Sender<()>> {
        let mut size: usize = group.iter().map(|c| c.request.size()).sum();
        while size < self.max_batch {
            match self.inbox.try_recv() {
                Ok(Message::Command(command)) => {
                    size += command.request.size();
                    group.push(command);
                }
                Ok(Message::Stop(done)) => return Some(done),
                Err(_) => break,
            }
        }
        None
    }

    /// Commits a group and answers it; `Ok(true)` when more forwarded requests may wait. When
    /// the commit fails, the group comes back unanswered.
    async fn apply_group(
        &mut self,
        leading: &mut Leading,
        group: Vec<Command>,
        claim: bool,
    ) -> Result<bool, (LedgerError, Vec<Command>)> {
        let (requests, replies): (Vec<Request>, Vec<_>) =
            group.into_iter().map(|c| (c.request, c.reply)).unzip();
        match self.commit_group(leading, &requests, claim).await {
            Ok(committed) => {
                for (reply, answer) in replies.into_iter().zip(committed.replies) {
                    // A caller that stopped waiting loses nothing: its work is committed.
                    let _ = reply.send(Ok(answer));
                }
                for (id, answer) in committed.own_answers {
                    self.forwarded.answer(id, answer);
                }
                Ok(committed.more_waiting)
            }
            Err(e) => {
                let group = requests
                    .into_iter()
                    .zip(replies)
                    .map(|(request, reply)| Command { request, reply })
                    .collect();
                Err((LedgerError::Database(e), group))
            }
        }
    }

    /// One transaction: claims waiting forwarded requests (when `claim`), applies them and this
    /// node's `requests` in memory, writes the result and the forwarded requests' answers.
    async fn commit_group(
        &mut self,
        leading: &mut Leading,
        requests: &[Request],
        claim: bool,
    ) -> Result<Committed, sqlx::Error> {
        let backend = self.db.backend();
        let room = self
            .max_batch
            .saturating_sub(requests.iter().map(Request::size).sum());
        let mut tx = begin(leading.held.connection(), backend).await?;
        let limit = room.min(forward::CLAIM_AT_ONCE);
        let claimed = if claim && limit > 0 {
            forward::claim(&mut tx, limit).await?
        } else {
            Vec::new()
        };
        // A full claim may have left more behind.
        let more_waiting = limit > 0 && claimed.len() == limit;
        let ids = referenced_ids(
            requests
                .iter()
                .chain(claimed.iter().flat_map(|c| c.requests.iter().flatten())),
        );
        let stored = fetch_transfers(&mut tx, backend, &ids).await?;
        let now = (self.clock)();
        let mut journal = Journal::default();
        let ledger = &mut leading.ledger;
        ledger.expire_due(now, &mut journal);
        let replies: Vec<Reply> = requests
            .iter()
            .map(|r| r.apply(ledger, now, &stored, &mut journal))
            .collect();
        let answers: Vec<(i64, Answer)> = claimed
            .into_iter()
            .map(|c| {
                let answer = c.requests.map(|rs| {
                    rs.iter()
                        .map(|r| r.apply(ledger, now, &stored, &mut journal))
                        .collect()
                });
                (c.id, answer)
            })
            .collect();
        if journal.is_empty() && answers.is_empty() {
            tx.commit().await?;
            return Ok(Committed {
                replies,
                own_answers: Vec::new(),
                more_waiting: false,
            });
        }
        let started = Instant::now();
        write_journal(&mut tx, backend, ledger, &journal).await?;
        let own_answers = forward::write_answers(&mut tx, answers, &self.forwarded).await?;
        tx.commit().await?;
        self.commit_times.record(started.elapsed());
        Ok(Committed {
            replies,
            own_answers,
            more_waiting,
        })
    }
}

/// What one committed group answers.
struct Committed {
    /// To this node's requests, in their order.
    replies: Vec<Reply>,
    /// To requests this node had forwarded (before it took over) and answered itself.
    own_answers: Vec<(i64, Answer)>,
    more_waiting: bool,
}

fn referenced_ids<'a>(requests: impl Iterator<Item = &'a Request>) -> Vec<TransferId> {
    let mut ids: Vec<TransferId> = requests.flat_map(Request::referenced_ids).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
