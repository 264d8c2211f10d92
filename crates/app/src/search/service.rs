//! The rules of search: what is searchable, keeping the index current, and asking it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kernel::{Id, Page, PageRequest, Timestamp};
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
            SearchType::Products => Kind::Product,
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
    let items = match kind {
        SearchType::Notes => {
            let notes = crate::notes::service::public(state, viewer, &ids).await?;
            in_rank_order(
                hits,
                notes,
                |n| n.id.as_i64(),
                |item, note| SearchItem {
                    note: Some(note),
                    ..item
                },
            )
        }
        SearchType::Users => {
            let users = crate::accounts::store::users_by_ids(&state.db, &ids).await?;
            in_rank_order(
                hits,
                users,
                |u| u.id.as_i64(),
                |item, user| SearchItem {
                    user: Some(user),
                    ..item
                },
            )
        }
        SearchType::Topics => {
            let topics: Vec<TopicDoc> = store::topics(&state.db, store::Topics::Ids(&ids)).await?;
            in_rank_order(
                hits,
                topics,
                |t| t.id,
                |item, topic| SearchItem {
                    topic: Some(TopicHit {
                        name: topic.name,
                        notes: topic.notes,
                    }),
                    ..item
                },
            )
        }
        SearchType::Products => {
            let ids: Vec<Id> = ids.into_iter().map(Id::from_i64).collect();
            let products = crate::shop::service::on_sale_among(state, &ids).await?;
            in_rank_order(
                hits,
                products,
                |p| p.id.as_i64(),
                |item, product| SearchItem {
                    product: Some(product),
                    ..item
                },
            )
        }
    };
    Ok(items)
}

/// Pairs each hit with what it names (`found`, in any order), keeping the hits' order and
/// leaving out hits whose document is gone.
fn in_rank_order<T>(
    hits: Vec<search::Hit>,
    found: Vec<T>,
    id_of: impl Fn(&T) -> i64,
    fill: impl Fn(SearchItem, T) -> SearchItem,
) -> Vec<SearchItem> {
    let mut found: HashMap<i64, T> = found.into_iter().map(|t| (id_of(&t), t)).collect();
    hits.into_iter()
        .filter_map(|hit| {
            let document = found.remove(&hit.id)?;
            let item = SearchItem {
                snippet: hit.snippet,
                note: None,
                user: None,
                topic: None,
                product: None,
            };
            Some(fill(item, document))
        })
        .collect()
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
