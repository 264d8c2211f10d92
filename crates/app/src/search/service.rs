//! The rules of search: what is searchable, keeping the index current, and asking it.

use std::sync::Arc;
use std::time::Duration;

use ::store::Db;
use kernel::{Cursor, Id, Page, PageRequest, Timestamp};
use search::{Kind, Query, SearchIndex, Sort, TopicDoc, Weights};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::store;
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::notes::types::Note;
use crate::state::AppState;

/// The longest query accepted, in characters.
pub const MAX_QUERY: usize = 100;

/// Something the index must catch up with.
#[derive(Debug, Clone, Copy)]
enum Change {
    Note(i64),
    User(i64),
}

/// The index and the line to its writer task.
pub struct Search {
    index: Arc<SearchIndex>,
    changes: mpsc::UnboundedSender<Change>,
    weights: Weights,
}

impl Search {
    /// Starts the writer task: it first builds the index from the database (search answers,
    /// with what is indexed so far, meanwhile), then applies changes, committing each batch.
    pub fn start(db: Db, weights: Weights) -> anyhow::Result<Search> {
        let index = Arc::new(SearchIndex::in_memory()?);
        let (changes, inbox) = mpsc::unbounded_channel();
        tokio::spawn(writer(db, index.clone(), inbox));
        Ok(Search {
            index,
            changes,
            weights,
        })
    }

    /// A note was published, edited, liked, collected or deleted.
    pub fn note_changed(&self, id: Id) {
        // The writer task lives as long as the server; a send can only fail during shutdown.
        let _ = self.changes.send(Change::Note(id.as_i64()));
    }

    /// A member signed up or changed their profile or gained followers.
    pub fn user_changed(&self, id: Id) {
        let _ = self.changes.send(Change::User(id.as_i64()));
    }

    pub fn indexed(&self) -> u64 {
        self.index.len()
    }
}

/// Changes arriving within this window share one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(100);
const REBUILD_PAGE: u32 = 2_000;

async fn writer(db: Db, index: Arc<SearchIndex>, mut inbox: mpsc::UnboundedReceiver<Change>) {
    if let Err(e) = rebuild(&db, &index).await {
        tracing::error!(error = %e, "search index rebuild failed");
    }
    while let Some(first) = inbox.recv().await {
        tokio::time::sleep(BATCH_WINDOW).await;
        let mut batch = vec![first];
        while let Ok(change) = inbox.try_recv() {
            batch.push(change);
        }
        if let Err(e) = apply(&db, &index, &batch).await {
            tracing::error!(error = %e, "search index update failed");
        }
    }
}

/// Indexes every searchable note, member and topic, a page at a time.
async fn rebuild(db: &Db, index: &SearchIndex) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut after = 0;
    loop {
        let notes = store::notes_after(db, after, REBUILD_PAGE).await?;
        let Some(last) = notes.last() else { break };
        after = last.id;
        index.upsert_notes(&notes)?;
        index.commit()?;
    }
    let mut after = 0;
    loop {
        let users = store::users_after(db, after, REBUILD_PAGE).await?;
        let Some(last) = users.last() else { break };
        after = last.id;
        index.upsert_users(&users)?;
    }
    index.upsert_topics(&store::topics(db, store::Topics::All).await?)?;
    index.commit()?;
    tracing::info!(
        documents = index.len(),
        took_ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    Ok(())
}

async fn apply(db: &Db, index: &SearchIndex, batch: &[Change]) -> anyhow::Result<()> {
    for change in batch {
        match *change {
            Change::Note(id) => match store::note_doc(db, id).await? {
                Some(doc) => {
                    index.upsert_notes(&[doc])?;
                    index.upsert_topics(&store::topics(db, store::Topics::OfNote(id)).await?)?;
                }
                None => index.delete(Kind::Note, id),
            },
            Change::User(id) => match store::user_doc(db, id).await? {
                Some(doc) => index.upsert_users(&[doc])?,
                None => index.delete(Kind::User, id),
            },
        }
    }
    index.commit()?;
    Ok(())
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchType {
    #[default]
    Notes,
    Users,
    Topics,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchSort {
    #[default]
    Relevance,
    Latest,
    Popular,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicHit {
    pub name: String,
    pub notes: u64,
}

/// One result: a note, a member or a topic, with a highlighted snippet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchItem {
    /// A piece of the matching text, HTML-escaped, with the matches in `<b>`.
    pub snippet: String,
    pub note: Option<Note>,
    pub user: Option<User>,
    pub topic: Option<TopicHit>,
}

/// The query as it will be searched: trimmed, and refused when empty or too long.
pub fn parse_query(text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::BadRequest(
            "q: type something to search for".into(),
        ));
    }
    if text.chars().count() > MAX_QUERY {
        return Err(AppError::BadRequest(format!(
            "q: a search may be at most {MAX_QUERY} characters"
        )));
    }
    Ok(text.to_owned())
}

/// A page of results the viewer may see: blocked people on either side are left out, and only
/// public, published notes are in the index at all.
pub async fn search(
    state: &AppState,
    viewer: Option<&User>,
    text: &str,
    kind: SearchType,
    sort: SearchSort,
    page: &PageRequest,
) -> AppResult<Page<SearchItem>> {
    let text = parse_query(text)?;
    let (size, offset) = crate::web::page_bounds(page)?;
    let offset = offset.unwrap_or(0).max(0) as usize;
    let excluded = match viewer {
        Some(v) => store::blocked_ids(&state.db, v.id.as_i64()).await?,
        None => Vec::new(),
    };
    let query = Query {
        text: &text,
        kind: match kind {
            SearchType::Notes => Kind::Note,
            SearchType::Users => Kind::User,
            SearchType::Topics => Kind::Topic,
        },
        sort: match sort {
            SearchSort::Relevance => Sort::Relevance,
            SearchSort::Latest => Sort::Latest,
            SearchSort::Popular => Sort::Popular,
        },
        offset,
        limit: size as usize + 1,
        excluded_authors: &excluded,
        now_ms: Timestamp::now().as_millis(),
    };
    let mut hits = state
        .search
        .index
        .search(&query, state.search.weights)
        .map_err(|e| AppError::Internal(e.into()))?;
    let more = hits.len() > size as usize;
    hits.truncate(size as usize);
    if offset == 0 {
        store::log_query(&state.db, &text.to_lowercase()).await?;
    }
    let items = hydrate(state, viewer, kind, hits).await?;
    let next_cursor = more.then(|| Cursor((offset + size as usize) as i64).encode());
    Ok(Page { items, next_cursor })
}

/// Turns hits into what clients show, in rank order, dropping any that vanished meanwhile.
async fn hydrate(
    state: &AppState,
    viewer: Option<&User>,
    kind: SearchType,
    hits: Vec<search::Hit>,
) -> AppResult<Vec<SearchItem>> {
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    let mut items = Vec::with_capacity(hits.len());
    match kind {
        SearchType::Notes => {
            let rows =
                crate::notes::store::public_by_ids(&state.db, &ids, viewer.map(|v| v.id)).await?;
            let notes = crate::notes::service::hydrate(state, viewer, rows).await?;
            for hit in hits {
                if let Some(note) = notes.iter().find(|n| n.id.as_i64() == hit.id) {
                    items.push(SearchItem {
                        snippet: hit.snippet,
                        note: Some(note.clone()),
                        user: None,
                        topic: None,
                    });
                }
            }
        }
        SearchType::Users => {
            for hit in hits {
                if let Some(user) =
                    crate::accounts::store::user_by_id(&state.db, Id::from_i64(hit.id)).await?
                {
                    items.push(SearchItem {
                        snippet: hit.snippet,
                        note: None,
                        user: Some(user),
                        topic: None,
                    });
                }
            }
        }
        SearchType::Topics => {
            let topics: Vec<TopicDoc> = store::topics(&state.db, store::Topics::Ids(&ids)).await?;
            for hit in hits {
                if let Some(topic) = topics.iter().find(|t| t.id == hit.id) {
                    let topic = TopicHit {
                        name: topic.name.clone(),
                        notes: topic.notes,
                    };
                    items.push(SearchItem {
                        snippet: hit.snippet,
                        note: None,
                        user: None,
                        topic: Some(topic),
                    });
                }
            }
        }
    }
    Ok(items)
}

/// Suggestions while typing: popular topics and past queries that start with the prefix.
pub async fn suggest(state: &AppState, prefix: &str) -> AppResult<Vec<String>> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.is_empty() || prefix.chars().count() > MAX_QUERY {
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = store::topics_by_prefix(&state.db, &prefix, 5)
        .await?
        .into_iter()
        .map(|t| format!("#{t}"))
        .collect();
    for query in store::queries_by_prefix(&state.db, &prefix, 8).await? {
        if out.len() < 10 && !out.iter().any(|s| s.trim_start_matches('#') == query) {
            out.push(query);
        }
    }
    Ok(out)
}
