//! Keeping this node's index current. The index lives on disk as a *generation* (a folder under
//! `<data>/search/`, named by the file `current`); it carries the position in the change log up
//! to which it is current. The keeper task opens the current generation (building one from the
//! database when there is none, or when the log no longer reaches back to it), then follows the
//! log. `hongshu reindex` builds a new generation beside the live one and publishes it; the
//! keeper switches to it, catches it up from the log, and removes the old one — search answers
//! throughout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::store::Db;
use kernel::Id;
use search::{Kind, SearchIndex};

use super::store;
use crate::changes::service::{node_name, Follower};
use crate::changes::store as log;
use crate::changes::types::{Change, Position};
use crate::orders::types::OrderStatus;
use crate::state::AppState;

/// After a wake-up, wait this long so that a burst of changes shares one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// Notes or members read from the database at a time while building.
const BUILD_PAGE: u32 = 2_000;
/// Documents between commits while building (each commit makes the next part searchable).
const BUILD_COMMIT_EVERY: u64 = 50_000;
/// How long a position moved only by entries that touch no document waits to be committed.
const QUIET_COMMIT: Duration = Duration::from_secs(600);
/// The subscriber's name in `hongshu changes`.
const NAME: &str = "search";
/// What kinds of documents an index holds, saved with its position. An index saved with
/// another (or none: before products were searchable) has no usable position and is rebuilt.
const CONTENTS: &str = "notes+members+topics+products";

/// Records how far the log has been applied to `index`; saved by its next commit.
fn set_position(index: &SearchIndex, at: Position) {
    index.set_position(&format!("{CONTENTS}@{at}"));
}

/// The position saved with `index`, if it holds what this version searches.
fn saved_position(index: &SearchIndex) -> Option<Position> {
    let saved = index.position();
    let (contents, at) = saved.split_once('@')?;
    (contents == CONTENTS).then(|| at.parse().ok()).flatten()
}

/// The folder holding this node's generations.
pub fn folder(state: &AppState) -> PathBuf {
    state.config.storage.data_dir.join("search")
}

/// The generation `current` names, if any.
fn published(folder: &Path) -> Option<String> {
    let name = std::fs::read_to_string(folder.join("current")).ok()?;
    let name = name.trim();
    folder.join(name).is_dir().then(|| name.to_owned())
}

/// Makes `name` the current generation, atomically.
fn publish(folder: &Path, name: &str) -> std::io::Result<()> {
    let staged = folder.join("current.new");
    std::fs::write(&staged, name)?;
    std::fs::rename(staged, folder.join("current"))
}

/// A new, empty generation folder, named so that later ones sort after earlier ones.
fn new_generation(state: &AppState) -> std::io::Result<(String, PathBuf)> {
    let name = format!("g{}", state.ids.next_id());
    let path = folder(state).join(&name);
    std::fs::create_dir_all(&path)?;
    Ok((name, path))
}

/// Fills `index` with every searchable note, member, topic and product, calling `progress(done, total)`
/// as it goes. Its position is the log's head before the build, so that changes made during
/// the build are applied afterwards from the log (a document may be read twice; never missed).
async fn build(
    db: &Db,
    index: &SearchIndex,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<()> {
    set_position(index, log::head(db).await?);
    let total = store::searchable_count(db).await?;
    let mut done = 0;
    let mut since_commit = 0;
    let mut after = 0;
    loop {
        let notes = store::notes_after(db, after, BUILD_PAGE).await?;
        let Some(last) = notes.last() else { break };
        after = last.id;
        index.upsert_notes(&notes)?;
        done += notes.len() as u64;
        since_commit += notes.len() as u64;
        if since_commit >= BUILD_COMMIT_EVERY {
            index.commit()?;
            since_commit = 0;
        }
        progress(done, total);
    }
    let mut after = 0;
    loop {
        let users = store::users_after(db, after, BUILD_PAGE).await?;
        let Some(last) = users.last() else { break };
        after = last.id;
        index.upsert_users(&users)?;
        done += users.len() as u64;
        progress(done, total);
    }
    let mut after = 0;
    loop {
        let products = store::products_after(db, after, BUILD_PAGE).await?;
        let Some(last) = products.last() else { break };
        after = last.id;
        index.upsert_products(&products)?;
        done += products.len() as u64;
        progress(done, total);
    }
    index.upsert_topics(&store::topics(db, store::Topics::All).await?)?;
    index.commit()?;
    Ok(())
}

/// What `hongshu reindex` reports.
pub struct Rebuilt {
    pub generation: String,
    pub documents: u64,
}

/// Builds a new generation from the database beside the live one and publishes it; a running
/// server switches to it within a second.
pub async fn rebuild(
    state: &AppState,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<Rebuilt> {
    let (name, path) = new_generation(state)?;
    let index = SearchIndex::open_or_create(&path)?;
    build(&state.db, &index, progress).await?;
    let documents = index.len();
    index.wait_merging_threads()?;
    publish(&folder(state), &name)?;
    Ok(Rebuilt {
        generation: name,
        documents,
    })
}

/// Keeps this node's index current until the server stops. Errors are logged and the step
/// is tried again after a pause.
pub async fn keep_current(state: AppState) {
    // Not current until the index is open and caught up.
    drop(Follower::new(
        &state,
        node_name(&state, NAME),
        Position::START,
    ));
    let folder = folder(&state);
    let mut live = loop {
        match open_or_build(&state, &folder).await {
            Ok(live) => break live,
            Err(e) => pause(e).await,
        }
    };
    loop {
        if let Err(e) = live.step(&state, &folder).await {
            pause(e).await;
        }
        live.follower.wait(BATCH_WINDOW).await;
    }
}

async fn pause(error: anyhow::Error) {
    tracing::error!(
        error = format!("{error:#}"),
        "search indexing failed; trying again"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
}

/// Where an index stands in the log, if the log still reaches back to it.
async fn usable_position(db: &Db, index: &SearchIndex) -> anyhow::Result<Option<Position>> {
    let Some(at) = saved_position(index) else {
        return Ok(None);
    };
    Ok((at >= log::pruned(db).await?).then_some(at))
}

/// The generation this node serves.
struct Live {
    name: String,
    index: Arc<SearchIndex>,
    follower: Follower,
    /// When the index last committed.
    committed: Instant,
    /// The position moved since that commit.
    unsaved: bool,
}

impl Live {
    fn new(state: &AppState, name: String, index: Arc<SearchIndex>, at: Position) -> Live {
        let follower = Follower::new(state, node_name(state, NAME), at);
        Live {
            name,
            index,
            follower,
            committed: Instant::now(),
            unsaved: false,
        }
    }

    /// Switches to a newly published generation if there is one, then applies the log.
    async fn step(&mut self, state: &AppState, folder: &Path) -> anyhow::Result<()> {
        if let Some(newer) = published(folder).filter(|p| *p != self.name) {
            let fresh = Arc::new(SearchIndex::open_or_create(&folder.join(&newer))?);
            let at = usable_position(&state.db, &fresh).await?.ok_or_else(|| {
                anyhow::anyhow!("the rebuilt index {newer} has no usable position")
            })?;
            let mut next = Live::new(state, newer, fresh, at);
            next.catch_up(state).await?;
            state.search.replace(next.index.clone());
            let old = std::mem::replace(self, next);
            drop(old.index);
            remove_generation(folder, &old.name);
            tracing::info!(
                generation = self.name,
                documents = self.index.len(),
                "search switched to a rebuilt index"
            );
        }
        self.catch_up(state).await
    }

    /// Applies every entry after the index's position and commits with the new position when a
    /// document changed (entries that touch no document, such as orders, only move the
    /// position, saved with the next commit or within [`QUIET_COMMIT`]); then reports where it
    /// stands.
    async fn catch_up(&mut self, state: &AppState) -> anyhow::Result<()> {
        let mut changed = false;
        loop {
            let entries = self.follower.read(&state.db).await?;
            let Some(last) = entries.last() else { break };
            // Each document once per batch, however many entries touch it (a popular note's
            // likes): it is read back from the database as it stands after all of them.
            let mut touched: Vec<Doc> = entries.iter().flat_map(|e| documents(&e.change)).collect();
            touched.sort_unstable();
            touched.dedup();
            for doc in touched {
                apply(&state.db, &self.index, doc).await?;
                changed = true;
            }
            for entry in &entries {
                self.follower.applied(state, entry);
            }
            set_position(&self.index, last.position);
            self.unsaved = true;
        }
        if changed || (self.unsaved && self.committed.elapsed() > QUIET_COMMIT) {
            self.index.commit()?;
            self.committed = Instant::now();
            self.unsaved = false;
        }
        self.follower.report(state).await?;
        Ok(())
    }
}

/// The published generation, caught up from the log; or, when there is none (or the log no
/// longer reaches back to it), a new one built from the database. A first build is served while
/// it fills; a replacement build is served only when complete.
async fn open_or_build(state: &AppState, folder: &Path) -> anyhow::Result<Live> {
    std::fs::create_dir_all(folder)?;
    if let Some(name) = published(folder) {
        let index = Arc::new(SearchIndex::open_or_create(&folder.join(&name))?);
        if let Some(at) = usable_position(&state.db, &index).await? {
            state.search.replace(index.clone());
            return Ok(Live::new(state, name, index, at));
        }
        tracing::info!(
            generation = name,
            "the change log no longer reaches back to the search index; rebuilding"
        );
    }
    let (name, path) = new_generation(state)?;
    let index = Arc::new(SearchIndex::open_or_create(&path)?);
    let first = published(folder).is_none();
    if first {
        state.search.replace(index.clone());
    }
    let started = Instant::now();
    if let Err(e) = build(&state.db, &index, &|_, _| {}).await {
        remove_generation(folder, &name);
        return Err(e);
    }
    if let Some(old) = published(folder) {
        remove_generation(folder, &old);
    }
    publish(folder, &name)?;
    state.search.replace(index.clone());
    tracing::info!(
        documents = index.len(),
        took_ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    let at =
        saved_position(&index).ok_or_else(|| anyhow::anyhow!("a built index has no position"))?;
    Ok(Live::new(state, name, index, at))
}

fn remove_generation(folder: &Path, name: &str) {
    if let Err(e) = std::fs::remove_dir_all(folder.join(name)) {
        tracing::warn!(error = %e, generation = name, "could not remove an old search index");
    }
}

/// A search document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    Note(Id),
    User(Id),
    Product(Id),
    /// Every product of a store (its name is in their text).
    StoreProducts(Id),
    /// The products an order bought (their units sold).
    OrderProducts(Id),
}

/// The documents a change alters: a note's text or counts, a member's profile or followers, a
/// product's text, state or sales.
fn documents(change: &Change) -> Vec<Doc> {
    match change {
        Change::NotePublished { note, .. }
        | Change::NoteEdited { note, .. }
        | Change::NoteDeleted { note, .. }
        | Change::Liked { note, .. }
        | Change::Unliked { note, .. }
        | Change::Collected { note, .. }
        | Change::Uncollected { note, .. }
        | Change::Commented { note, .. }
        | Change::CommentDeleted { note, .. } => vec![Doc::Note(*note)],
        Change::Followed { followee, .. } | Change::Unfollowed { followee, .. } => {
            vec![Doc::User(*followee)]
        }
        Change::Blocked { blocker, blocked } => vec![Doc::User(*blocker), Doc::User(*blocked)],
        Change::MemberJoined { member } | Change::ProfileChanged { member } => {
            vec![Doc::User(*member)]
        }
        Change::AccountDeleted { member, touched } => std::iter::once(Doc::User(*member))
            .chain(touched.iter().map(|n| Doc::Note(*n)))
            .collect(),
        Change::ProductChanged { product, .. } => vec![Doc::Product(*product)],
        Change::StoreChanged { store } => vec![Doc::StoreProducts(*store)],
        Change::OrderMoved {
            order,
            status: OrderStatus::Paid,
        } => vec![Doc::OrderProducts(*order)],
        Change::Unblocked { .. }
        | Change::Muted { .. }
        | Change::Unmuted { .. }
        | Change::CardEvents { .. }
        | Change::PersonalisationSet { .. }
        | Change::InterestForgotten { .. }
        | Change::OrderMoved { .. }
        | Change::PaymentSucceeded { .. }
        | Change::PaymentFailed { .. }
        | Change::PaymentRefunded { .. }
        | Change::Reviewed { .. }
        | Change::AfterSaleAsked { .. }
        | Change::AfterSaleAnswered { .. } => vec![],
    }
}

/// Brings documents in line with the database: re-read, or removed when no longer searchable.
async fn apply(db: &Db, index: &SearchIndex, doc: Doc) -> anyhow::Result<()> {
    match doc {
        Doc::Note(id) => match store::note_doc(db, id.as_i64()).await? {
            Some(doc) => {
                index.upsert_notes(&[doc])?;
                let topics = store::topics(db, store::Topics::OfNote(id.as_i64())).await?;
                index.upsert_topics(&topics)?;
            }
            None => index.delete(Kind::Note, id.as_i64()),
        },
        Doc::User(id) => match store::user_doc(db, id.as_i64()).await? {
            Some(doc) => index.upsert_users(&[doc])?,
            None => index.delete(Kind::User, id.as_i64()),
        },
        Doc::Product(id) => apply_products(db, index, &[id.as_i64()]).await?,
        Doc::StoreProducts(id) => {
            let products = store::products_of_store(db, id.as_i64()).await?;
            apply_products(db, index, &products).await?;
        }
        Doc::OrderProducts(id) => {
            let products = store::products_of_order(db, id.as_i64()).await?;
            apply_products(db, index, &products).await?;
        }
    }
    Ok(())
}

async fn apply_products(db: &Db, index: &SearchIndex, ids: &[i64]) -> anyhow::Result<()> {
    for &id in ids {
        match store::product_doc(db, id).await? {
            Some(doc) => index.upsert_products(&[doc])?,
            None => index.delete(Kind::Product, id),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_saved_with_other_contents_has_no_usable_position() {
        let index = SearchIndex::in_memory().unwrap();
        index.set_position("12.3");
        assert_eq!(saved_position(&index), None, "saved before products");
        let at = Position { tx: 12, seq: 3 };
        set_position(&index, at);
        assert_eq!(saved_position(&index), Some(at));
    }
}
