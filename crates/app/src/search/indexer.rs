//! Keeping this node's index current. The index lives on disk as a *generation* (a folder under
//! `<data>/search/`, named by the file `current`); it carries a watermark, the position in the
//! `search_changes` log up to which it is current. The keeper task opens the current generation
//! (building one from the database when there is none), then tails the log. `hongshu reindex`
//! builds a new generation beside the live one and publishes it; the keeper switches to it,
//! catches it up from the log, and removes the old one — search answers throughout.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::store::Db;
use kernel::{Id, Timestamp};
use search::{Kind, SearchIndex};

use super::store;
use crate::state::AppState;

/// Changes are read this long after they were logged at the latest, even with no wake-up
/// (changes made by another node or by a command).
const POLL: Duration = Duration::from_millis(500);
/// After a wake-up, wait this long so that a burst of changes shares one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// A logged change may become visible this long after its sequence number was taken (the
/// transaction that logged it commits later); the watermark stays this far behind the clock,
/// and the changes above it are remembered so that each is applied once.
const GRACE_MS: i64 = 3_000;
/// Logged changes are kept this long; an index older than that is rebuilt.
const RETENTION_MS: i64 = 7 * 86_400_000;
/// Notes or members read from the database at a time while building.
const BUILD_PAGE: u32 = 2_000;
/// Documents between commits while building (each commit makes the next part searchable).
const BUILD_COMMIT_EVERY: u64 = 50_000;

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

/// Fills `index` with every searchable note, member and topic, calling `progress(done, total)`
/// as it goes. The watermark is set first, a grace period back, so that changes made during
/// the build are applied afterwards from the log.
async fn build(
    db: &Db,
    index: &SearchIndex,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<()> {
    index.set_watermark(Id::first_at(Timestamp::now().as_millis() - GRACE_MS).as_i64());
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
    let folder = folder(&state);
    let mut live = loop {
        match open_or_build(&state, &folder).await {
            Ok(live) => break live,
            Err(e) => pause(e).await,
        }
    };
    let mut last_prune = Instant::now();
    loop {
        if let Err(e) = live.step(&state, &folder).await {
            pause(e).await;
        }
        if last_prune.elapsed() > Duration::from_secs(3600) {
            if let Err(e) = prune(&state, &live.index).await {
                pause(e).await;
            }
            last_prune = Instant::now();
        }
        tokio::select! {
            _ = state.search.woken() => tokio::time::sleep(BATCH_WINDOW).await,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn pause(error: anyhow::Error) {
    tracing::error!(
        error = format!("{error:#}"),
        "search indexing failed; trying again"
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
}

/// Forgets logged changes past their retention, and saves the index's watermark even when
/// nothing changed, so that a quiet index does not look stale at the next start.
async fn prune(state: &AppState, index: &SearchIndex) -> anyhow::Result<()> {
    let before = Id::first_at(Timestamp::now().as_millis() - RETENTION_MS);
    store::forget_changes_before(&state.db, before.as_i64()).await?;
    index.commit()?;
    Ok(())
}

/// The generation this node serves.
struct Live {
    name: String,
    index: Arc<SearchIndex>,
    tail: Tail,
}

impl Live {
    /// Switches to a newly published generation if there is one, then applies the log.
    async fn step(&mut self, state: &AppState, folder: &Path) -> anyhow::Result<()> {
        if let Some(newer) = published(folder).filter(|p| *p != self.name) {
            let fresh = Arc::new(SearchIndex::open_or_create(&folder.join(&newer))?);
            let mut tail = Tail::default();
            tail.catch_up(state, &fresh).await?;
            state.search.replace(fresh.clone());
            let old = std::mem::replace(
                self,
                Live {
                    name: newer,
                    index: fresh,
                    tail,
                },
            );
            drop(old.index);
            remove_generation(folder, &old.name);
            tracing::info!(
                generation = self.name,
                documents = self.index.len(),
                "search switched to a rebuilt index"
            );
        }
        self.tail.catch_up(state, &self.index).await
    }
}

/// The published generation, caught up from the log; or, when there is none (or it is older
/// than the log goes back), a new one built from the database. A first build is served while
/// it fills; a replacement build is served only when complete.
async fn open_or_build(state: &AppState, folder: &Path) -> anyhow::Result<Live> {
    std::fs::create_dir_all(folder)?;
    let oldest_usable = Id::first_at(Timestamp::now().as_millis() - RETENTION_MS).as_i64();
    if let Some(name) = published(folder) {
        let index = Arc::new(SearchIndex::open_or_create(&folder.join(&name))?);
        if index.watermark() >= oldest_usable {
            state.search.replace(index.clone());
            return Ok(Live {
                name,
                index,
                tail: Tail::default(),
            });
        }
        tracing::info!(
            generation = name,
            "search index is older than the change log; rebuilding"
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
    Ok(Live {
        name,
        index,
        tail: Tail::default(),
    })
}

fn remove_generation(folder: &Path, name: &str) {
    if let Err(e) = std::fs::remove_dir_all(folder.join(name)) {
        tracing::warn!(error = %e, generation = name, "could not remove an old search index");
    }
}

/// Applying the change log to an index.
#[derive(Default)]
struct Tail {
    /// Changes above the watermark already applied.
    applied: HashSet<i64>,
}

impl Tail {
    /// Applies every logged change above the index's watermark not yet applied, commits, and
    /// moves the watermark up to the grace period. The note cache forgets what changed too.
    async fn catch_up(&mut self, state: &AppState, index: &SearchIndex) -> anyhow::Result<()> {
        let db = &state.db;
        let settled = Id::first_at(Timestamp::now().as_millis() - GRACE_MS).as_i64();
        let mut after = index.watermark();
        let mut changed = false;
        loop {
            let changes = store::changes_after(db, after, BUILD_PAGE).await?;
            let Some(&(last, _, _)) = changes.last() else {
                break;
            };
            after = last;
            for (seq, kind, id) in changes {
                if self.applied.insert(seq) {
                    forget_cached(state, &kind, id);
                    apply(db, index, &kind, id).await?;
                    changed = true;
                }
            }
        }
        if settled > index.watermark() {
            index.set_watermark(settled);
            self.applied.retain(|seq| *seq > settled);
        }
        if changed {
            index.commit()?;
        }
        Ok(())
    }
}

fn forget_cached(state: &AppState, kind: &str, id: i64) {
    match kind {
        "note" => state.note_cache.forget_note(Id::from_i64(id)),
        "user" => state.note_cache.forget_author(Id::from_i64(id)),
        _ => {}
    }
}

/// Brings one document in line with the database: re-read, or removed when no longer searchable.
async fn apply(db: &Db, index: &SearchIndex, kind: &str, id: i64) -> anyhow::Result<()> {
    match kind {
        "note" => match store::note_doc(db, id).await? {
            Some(doc) => {
                index.upsert_notes(&[doc])?;
                index.upsert_topics(&store::topics(db, store::Topics::OfNote(id)).await?)?;
            }
            None => index.delete(Kind::Note, id),
        },
        "user" | "followers" => match store::user_doc(db, id).await? {
            Some(doc) => index.upsert_users(&[doc])?,
            None => index.delete(Kind::User, id),
        },
        other => tracing::warn!(kind = other, "unknown kind in the search change log"),
    }
    Ok(())
}
