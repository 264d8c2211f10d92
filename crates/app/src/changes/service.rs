//! Recording changes and following the log.
//!
//! - [`Changes::record`] is the only way to announce a change; [`Changes::commit`] commits the
//!   transaction and wakes this node's subscribers.
//! - Every-node subscribers ([`NodeSubscriber`]: search, the feed, the note cache) each keep
//!   their own position in memory and report it; once-per-cluster subscribers
//!   ([`ClusterSubscriber`]: notifications) claim their position row, apply a batch and move
//!   the position in one transaction, so a crash mid-batch repeats the batch without doubling
//!   it and two nodes never both apply it.
//! - Wake-ups: in-process on this node, PostgreSQL `LISTEN/NOTIFY` across nodes, and a poll
//!   every [`POLL`] whatever else happens.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ::store::{Backend, Db, Tx};
use kernel::{IdGenerator, Timestamp};
use tokio::sync::watch;

use super::store;
use super::types::{Change, Entry, Position, Standing};
use crate::state::AppState;

/// Entries are read at the latest this long after they became final, with no wake-up at all.
pub const POLL: Duration = Duration::from_millis(500);
/// Entries read and applied at a time.
const BATCH: u32 = 500;
/// How long entries are kept; a subscriber further behind rebuilds from the tables.
pub const RETENTION_MS: i64 = 7 * 86_400_000;
/// How often a subscriber saves and publishes where it stands.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// How long a once-per-cluster subscriber waits after a wake-up, so that a burst shares one
/// claim (on SQLite, one turn of the write lock).
const CLUSTER_GATHER: Duration = Duration::from_millis(20);
/// The PostgreSQL channel that tells other nodes there is something new.
const CHANNEL: &str = "hongshu_changes";

/// This node's side of the log: the numbering of its entries and its wake-ups.
pub struct Changes {
    ids: IdGenerator,
    backend: Backend,
    /// Bumped for every commit that recorded entries, here or (through LISTEN) on another node.
    news: watch::Sender<u64>,
    /// Bumped for commits on this node only: what to announce to the others.
    committed: watch::Sender<u64>,
    /// Where each subscriber on this node stands, as it applies.
    positions: Mutex<HashMap<String, Position>>,
}

impl Changes {
    pub fn new(node: u16, backend: Backend) -> Changes {
        Changes {
            ids: IdGenerator::new(node),
            backend,
            news: watch::Sender::new(0),
            committed: watch::Sender::new(0),
            positions: Mutex::new(HashMap::new()),
        }
    }

    fn stands_at(&self, subscriber: &str, at: Position) {
        let mut positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        positions.insert(subscriber.to_owned(), at);
    }

    /// True when every subscriber on this node has applied everything committed so far (a
    /// once-per-cluster subscriber counts where this node last saw it).
    pub async fn caught_up(&self, db: &Db) -> Result<bool, sqlx::Error> {
        let head = store::last_recorded(db).await?;
        let positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        Ok(!positions.is_empty() && positions.values().all(|at| *at >= head))
    }

    /// Records `change` inside the transaction that makes it true.
    pub async fn record(&self, tx: &mut Tx, change: Change) -> Result<(), sqlx::Error> {
        let seq = self.ids.next_id().as_i64();
        store::insert(tx, self.backend, seq, Timestamp::now().as_millis(), &change).await
    }

    /// Commits a transaction that recorded changes and wakes the subscribers.
    pub async fn commit(&self, tx: Tx) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        self.committed.send_modify(|n| *n += 1);
        self.news.send_modify(|n| *n += 1);
        Ok(())
    }

    fn heard_from_another_node(&self) {
        self.news.send_modify(|n| *n += 1);
    }

    fn listen(&self) -> watch::Receiver<u64> {
        self.news.subscribe()
    }
}

/// A subscriber every node runs over its own copy of something (an index, an engine, a cache).
pub trait NodeSubscriber: Send + 'static {
    /// Its name in `hongshu changes` and on `/metrics`.
    const NAME: &'static str;
    /// How long to wait after a wake-up, so that a burst shares one pass.
    const GATHER: Duration;

    /// Builds its copy from the tables (or finds it current) and says from which position the
    /// log continues it. Called at start and whenever it fell behind the log's retention.
    fn start(&mut self, state: &AppState) -> impl Future<Output = anyhow::Result<Position>> + Send;

    /// Applies one entry. An error pauses the subscriber and the entry is tried again.
    fn apply(
        &mut self,
        state: &AppState,
        entry: &Entry,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// After a pass over the entries read at once (an index commits here).
    fn settle(&mut self, _state: &AppState) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A subscriber one node at a time applies for the whole cluster, inside the transaction that
/// moves its position: it must write only to the database through that transaction.
pub trait ClusterSubscriber: Send + Sync + 'static {
    const NAME: &'static str;

    /// Whether it does anything with `change`: a batch of nothing it wants is passed over
    /// without taking the claim (on SQLite, the write lock), and the position saved now and then.
    fn wants(&self, change: &Change) -> bool;

    /// Applies a batch of entries, in order.
    fn apply(
        &self,
        state: &AppState,
        tx: &mut Tx,
        entries: &[Entry],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Where one subscriber stands on this node, and its reports.
pub struct Follower {
    name: String,
    at: Position,
    news: watch::Receiver<u64>,
    reported: Option<Instant>,
    saved: Option<Instant>,
    checked: Option<Instant>,
}

impl Follower {
    pub fn new(state: &AppState, name: String, at: Position) -> Follower {
        state.changes.stands_at(&name, at);
        Follower {
            name,
            at,
            news: state.changes.listen(),
            reported: None,
            saved: None,
            checked: None,
        }
    }

    pub fn position(&self) -> Position {
        self.at
    }

    /// The next final entries after this position (the position does not move).
    pub async fn read(&self, db: &Db) -> Result<Vec<Entry>, sqlx::Error> {
        store::read_after(db, self.at, BATCH).await
    }

    /// The entry was applied.
    pub fn applied(&mut self, state: &AppState, entry: &Entry) {
        self.moved_to(state, entry.position);
        state.metrics.change_applied(&self.name, entry.at_ms);
    }

    pub fn moved_to(&mut self, state: &AppState, at: Position) {
        self.at = at;
        state.changes.stands_at(&self.name, at);
    }

    /// True when retention has removed entries this position has not seen (asked of the
    /// database at most once per [`REPORT_EVERY`]: retention runs hourly).
    pub async fn missed_some(&mut self, db: &Db) -> Result<bool, sqlx::Error> {
        if self.checked.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return Ok(false);
        }
        self.checked = Some(Instant::now());
        Ok(self.at < store::pruned(db).await?)
    }

    /// Saves the position and publishes the lag, at most once per [`REPORT_EVERY`].
    pub async fn report(&mut self, state: &AppState) -> Result<(), sqlx::Error> {
        if self.due() {
            let now = Timestamp::now().as_millis();
            store::save_position(&state.db, &self.name, self.at, now).await?;
            self.publish_lag(state).await?;
        }
        Ok(())
    }

    /// Publishes the lag only (the position is saved elsewhere), at most once per
    /// [`REPORT_EVERY`].
    async fn report_lag(&mut self, state: &AppState) -> Result<(), sqlx::Error> {
        if self.due() {
            self.publish_lag(state).await?;
        }
        Ok(())
    }

    /// Saves a once-per-cluster subscriber's position past entries it passed over, at most once
    /// per [`REPORT_EVERY`], under the claim and never backwards.
    async fn save_now_and_then<S: ClusterSubscriber>(
        &mut self,
        state: &AppState,
    ) -> Result<(), sqlx::Error> {
        if self.saved.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return Ok(());
        }
        self.saved = Some(Instant::now());
        let backend = state.db.backend();
        let mut tx = state.db.begin_write().await?;
        if let Some(saved) = store::claim(&mut tx, backend, S::NAME).await? {
            if saved < self.at {
                let now = Timestamp::now().as_millis();
                store::save_position_in(&mut tx, S::NAME, self.at, now).await?;
            }
        }
        tx.commit().await
    }

    fn due(&mut self) -> bool {
        if self.reported.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return false;
        }
        self.reported = Some(Instant::now());
        true
    }

    async fn publish_lag(&self, state: &AppState) -> Result<(), sqlx::Error> {
        let (_, oldest) = store::behind(&state.db, self.at).await?;
        let now = Timestamp::now().as_millis();
        state
            .metrics
            .change_lag(&self.name, oldest.map_or(0, |t| (now - t).max(0)));
        Ok(())
    }

    /// Waits for news (then `gather` longer) or the poll, whichever comes first.
    pub async fn wait(&mut self, gather: Duration) {
        tokio::select! {
            heard = self.news.changed() => match heard {
                Ok(()) => tokio::time::sleep(gather).await,
                Err(_) => tokio::time::sleep(POLL).await,
            },
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// The name under which an every-node subscriber reports: its own and the node's.
pub fn node_name(state: &AppState, subscriber: &str) -> String {
    format!("{subscriber}@{}", state.node.id)
}

/// Runs an every-node subscriber until the server stops.
pub async fn follow_on_this_node<S: NodeSubscriber>(state: AppState, mut subscriber: S) {
    state
        .changes
        .stands_at(&node_name(&state, S::NAME), Position::START);
    loop {
        let at = match subscriber.start(&state).await {
            Ok(at) => at,
            Err(e) => {
                pause(S::NAME, e).await;
                continue;
            }
        };
        let mut follower = Follower::new(&state, node_name(&state, S::NAME), at);
        loop {
            match pass(&state, &mut subscriber, &mut follower).await {
                Ok(Pass::More) => continue,
                Ok(Pass::CaughtUp) => follower.wait(S::GATHER).await,
                Ok(Pass::Missed) => break,
                Err(e) => pause(S::NAME, e).await,
            }
        }
        tracing::warn!(
            subscriber = S::NAME,
            "fell behind the change log's retention; rebuilding from the tables"
        );
    }
}

enum Pass {
    More,
    CaughtUp,
    Missed,
}

async fn pass<S: NodeSubscriber>(
    state: &AppState,
    subscriber: &mut S,
    follower: &mut Follower,
) -> anyhow::Result<Pass> {
    if follower.missed_some(&state.db).await? {
        return Ok(Pass::Missed);
    }
    let entries = follower.read(&state.db).await?;
    let applied = apply_each(state, subscriber, follower, &entries).await;
    if !entries.is_empty() {
        subscriber.settle(state)?;
    }
    applied?;
    follower.report(state).await?;
    Ok(if entries.len() == BATCH as usize {
        Pass::More
    } else {
        Pass::CaughtUp
    })
}

async fn apply_each<S: NodeSubscriber>(
    state: &AppState,
    subscriber: &mut S,
    follower: &mut Follower,
    entries: &[Entry],
) -> anyhow::Result<()> {
    for entry in entries {
        subscriber.apply(state, entry).await?;
        follower.applied(state, entry);
    }
    Ok(())
}

/// Runs a once-per-cluster subscriber on this node until the server stops; every node runs it,
/// and whichever claims the position applies the next batch.
pub async fn apply_once_per_cluster<S: ClusterSubscriber>(state: AppState, subscriber: S) {
    let mut follower = Follower::new(&state, S::NAME.to_owned(), Position::START);
    loop {
        match claim_and_apply(&state, &subscriber, &mut follower).await {
            Ok(Claimed::Full) => continue,
            Ok(Claimed::Done | Claimed::Elsewhere) => {
                if let Err(e) = follower.report_lag(&state).await {
                    pause(S::NAME, e.into()).await;
                }
                follower.wait(CLUSTER_GATHER).await;
            }
            Err(e) => pause(S::NAME, e).await,
        }
    }
}

/// What one claim came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Claimed {
    /// A whole batch applied: there may be more.
    Full,
    /// Caught up.
    Done,
    /// Another node holds the claim.
    Elsewhere,
}

/// Claims the subscriber's position, applies the next batch and moves the position, in one
/// transaction. `follower` follows the saved position (whichever node moved it) so that an
/// idle pass costs two reads and no write lock.
pub async fn claim_and_apply<S: ClusterSubscriber>(
    state: &AppState,
    subscriber: &S,
    follower: &mut Follower,
) -> anyhow::Result<Claimed> {
    match store::saved_position(&state.db, S::NAME).await? {
        Some(saved) => follower.moved_to(state, saved.max(follower.position())),
        None => store::ensure_position(&state.db, S::NAME, Timestamp::now().as_millis()).await?,
    }
    let ahead = store::read_after(&state.db, follower.position(), BATCH).await?;
    if ahead.is_empty() {
        return Ok(Claimed::Done);
    }
    if !ahead.iter().any(|e| subscriber.wants(&e.change)) {
        for entry in &ahead {
            follower.applied(state, entry);
        }
        follower.save_now_and_then::<S>(state).await?;
        return Ok(if ahead.len() == BATCH as usize {
            Claimed::Full
        } else {
            Claimed::Done
        });
    }
    let backend = state.db.backend();
    let mut tx = state.db.begin_write().await?;
    let Some(at) = store::claim(&mut tx, backend, S::NAME).await? else {
        return Ok(Claimed::Elsewhere);
    };
    let entries = store::read_after_in(&mut tx, backend, at, BATCH).await?;
    let Some(last) = entries.last() else {
        follower.moved_to(state, at);
        return Ok(Claimed::Done);
    };
    subscriber.apply(state, &mut tx, &entries).await?;
    let now = Timestamp::now().as_millis();
    store::save_position_in(&mut tx, S::NAME, last.position, now).await?;
    tx.commit().await?;
    for entry in &entries {
        follower.applied(state, entry);
    }
    Ok(if entries.len() == BATCH as usize {
        Claimed::Full
    } else {
        Claimed::Done
    })
}

async fn pause(subscriber: &str, error: anyhow::Error) {
    tracing::error!(
        subscriber,
        error = format!("{error:#}"),
        "applying the change log failed; trying again"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// On PostgreSQL: tells the other nodes when this one committed changes, and wakes this one's
/// subscribers when another did. Polling covers any notice lost while reconnecting.
pub async fn connect_nodes(state: AppState) {
    if state.db.backend() != Backend::Postgres {
        return;
    }
    let announce = tokio::spawn(announce(state.clone()));
    let url = state.config.database_url();
    loop {
        if let Err(e) = hear(&state, &url).await {
            tracing::warn!(error = %e, "listening for other nodes' changes failed; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        if announce.is_finished() {
            return;
        }
    }
}

async fn hear(state: &AppState, url: &str) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Whatever was announced before this connection is found by reading.
    state.changes.heard_from_another_node();
    loop {
        listener.recv().await?;
        state.changes.heard_from_another_node();
    }
}

async fn announce(state: AppState) {
    let mut committed = state.changes.committed.subscribe();
    while committed.changed().await.is_ok() {
        if let Err(e) = sqlx::query(&format!("NOTIFY {CHANNEL}"))
            .execute(state.db.pool())
            .await
        {
            tracing::warn!(error = %e, "could not tell other nodes about new changes");
        }
        // Commits in the next few milliseconds share one notice.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Removes entries past their retention, hourly.
pub async fn keep_retention(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = Timestamp::now().as_millis() - RETENTION_MS;
        match store::prune(&state.db, before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "removed change-log entries past retention"),
            Err(e) => tracing::warn!(error = %e, "could not prune the change log"),
        }
    }
}

/// Every subscriber's standing, for `hongshu changes`.
pub async fn standings(db: &Db) -> Result<(u64, Vec<Standing>), sqlx::Error> {
    let now = Timestamp::now().as_millis();
    Ok((store::count(db).await?, store::standings(db, now).await?))
}
