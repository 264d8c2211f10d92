//! The rules of search: what is searchable, keeping the index current, and asking it.

use std::sync::{Arc, RwLock};

use kernel::{Page, PageRequest, Timestamp};
use search::{Kind, Query, SearchIndex, Sort, TopicDoc, Weights};

use super::store;
use super::types::{SearchItem, SearchSort, SearchType, TopicHit};
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The longest query accepted, in characters.
pub const MAX_QUERY: usize = 100;

/// The index this node serves (swapped when a rebuilt one is ready).
pub struct Search {
    index: RwLock<Arc<SearchIndex>>,
    weights: Weights,
}

impl Search {
    /// Starts with an empty index; the server's indexer opens or builds the real one
    /// ([`super::indexer::keep_current`]). Commands that do not serve never search.
    pub fn new(weights: Weights) -> anyhow::Result<Search> {
        Ok(Search {
            index: RwLock::new(Arc::new(SearchIndex::in_memory()?)),
            weights,
        })
    }

    pub fn index(&self) -> Arc<SearchIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn replace(&self, index: Arc<SearchIndex>) {
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = index;
    }
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
    let (size, offset) = crate::web::page_position(page)?;
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
        .index()
        .search(&query, state.search.weights)
        .map_err(|e| AppError::Internal(e.into()))?;
    let more = hits.len() > size as usize;
    hits.truncate(size as usize);
    if offset == 0 {
        store::log_query(&state.db, &text.to_lowercase()).await?;
    }
    let items = hydrate(state, viewer, kind, hits).await?;
    let next_cursor = more
        .then(|| kernel::next_position(offset + size as usize))
        .flatten();
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
            let notes = crate::notes::service::public(state, viewer, &ids).await?;
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
            let users = crate::accounts::store::users_by_ids(&state.db, &ids).await?;
            for hit in hits {
                if let Some(user) = users.iter().find(|u| u.id.as_i64() == hit.id) {
                    items.push(SearchItem {
                        snippet: hit.snippet,
                        note: None,
                        user: Some(user.clone()),
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
