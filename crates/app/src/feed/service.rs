//! The feed's rules: loading the engine from the database, telling it what happens, and turning
//! its cards into what readers see.

use std::collections::HashMap;
use std::sync::Mutex;

use ::feed::{Card, Engine, FeedConfig, Reason, Signal};
use kernel::{Cursor, Id, Page, PageRequest, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store;
use super::types::{Channel, EventKind};
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult};
use crate::notes::types::Note;
use crate::state::AppState;
use crate::web::i18n::{self, Texts};
use crate::web::{page_bounds, page_position};

/// The engine and the topic names its cards mention.
pub struct Feed {
    inner: Mutex<Inner>,
}

struct Inner {
    engine: Engine,
    topic_names: TopicNames,
}

impl Inner {
    /// A topic by name, as people write it (any case, with or without `#`).
    fn topic_id(&self, name: &str) -> AppResult<i64> {
        let name = name.trim().trim_start_matches('#').to_lowercase();
        self.topic_names
            .ids
            .get(&name)
            .copied()
            .ok_or(AppError::NotFound("topic"))
    }
}

/// Topics' names both ways: cards name their topics, and channels are asked for by name.
#[derive(Default)]
struct TopicNames {
    names: HashMap<i64, String>,
    ids: HashMap<String, i64>,
}

impl TopicNames {
    fn get(&self, id: &i64) -> Option<&String> {
        self.names.get(id)
    }
}

impl Extend<(i64, String)> for TopicNames {
    fn extend<I: IntoIterator<Item = (i64, String)>>(&mut self, topics: I) {
        for (id, name) in topics {
            self.ids.insert(name.clone(), id);
            self.names.insert(id, name);
        }
    }
}

impl Feed {
    /// An empty feed; [`load`] fills it from the database when the server starts.
    pub fn new(config: FeedConfig) -> Feed {
        Feed {
            inner: Mutex::new(Inner {
                engine: Engine::new(config),
                topic_names: TopicNames::default(),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Holds a public note (again), with the names of its topics.
    pub(super) fn hold_note(&self, info: ::feed::NoteInfo, topics: Vec<(i64, String)>) {
        self.with(|inner| {
            inner.topic_names.extend(topics);
            inner.engine.add_note(info);
        });
    }

    pub(super) fn remove_note(&self, id: Id) {
        self.with(|inner| inner.engine.remove_note(id.as_i64()));
    }

    pub(super) fn signal(&self, reader: Id, note: Id, signal: Signal, at_ms: i64) {
        self.with(|inner| {
            inner
                .engine
                .signal(reader.as_i64(), note.as_i64(), signal, at_ms)
        });
    }

    pub(super) fn set_personalised(&self, reader: Id, personalised: bool) {
        self.with(|inner| inner.engine.set_personalised(reader.as_i64(), personalised));
    }

    pub(super) fn forget_interest(&self, reader: Id, topic: i64, at_ms: i64) {
        self.with(|inner| inner.engine.forget_interest(reader.as_i64(), topic, at_ms));
    }

    pub(super) fn set_follow(&self, reader: Id, author: Id, following: bool) {
        self.with(|inner| {
            inner
                .engine
                .set_follow(reader.as_i64(), author.as_i64(), following)
        });
    }

    /// A block hides each from the other; a mute hides one from the other.
    pub(super) fn set_hidden(&self, reader: Id, author: Id, hidden: bool, both_ways: bool) {
        self.with(|inner| {
            inner
                .engine
                .set_hidden(reader.as_i64(), author.as_i64(), hidden);
            if both_ways {
                inner
                    .engine
                    .set_hidden(author.as_i64(), reader.as_i64(), hidden);
            }
        });
    }
}

/// Builds the engine from the database (notes in the window, follows, blocks, mutes, likes,
/// collects, comments, reported events, settings) and swaps it in. The history streams from
/// the database into the engine on a thread of its own, so reading and learning overlap.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let config = state.feed.with(|inner| inner.engine.config().clone());
    let since = Timestamp::now().as_millis() - i64::from(config.window_days) * 86_400_000;
    let seen_days = config.seen_days;
    let snapshot = store::snapshot(&state.db, since).await?;
    let mut engine = Engine::new(config);
    let notes = snapshot.notes.len();
    for note in snapshot.notes {
        engine.add_note(note);
    }
    for (reader, author) in snapshot.follows {
        engine.set_follow(reader, author, true);
    }
    for (reader, author) in snapshot.hidden {
        engine.set_hidden(reader, author, true);
    }
    for reader in snapshot.impersonal {
        engine.set_personalised(reader, false);
    }
    for (reader, topic, at) in snapshot.forgotten {
        engine.forget_interest(reader, topic, at);
    }
    let (sender, mut chunks) = tokio::sync::mpsc::channel::<Vec<store::Signalled>>(4);
    let learning = tokio::task::spawn_blocking(move || {
        let history = std::iter::from_fn(|| chunks.blocking_recv()).flatten();
        engine.replay(history.flat_map(|(reader, note, signal, at, times)| {
            std::iter::repeat_n((reader, note, signal, at), times as usize)
        }));
        engine
    });
    let seen_since = Timestamp::now().as_millis() - i64::from(seen_days) * 86_400_000;
    let first_note = Id::first_at(since).as_i64();
    let sent = store::send_signals(&state.db, first_note, seen_since, &sender).await;
    drop(sender);
    let engine = learning.await?;
    let signals = sent?;
    state.feed.with(|inner| {
        inner.engine = engine;
        inner.topic_names = TopicNames::default();
        inner.topic_names.extend(snapshot.topic_names);
    });
    tracing::info!(
        notes,
        signals,
        took_ms = started.elapsed().as_millis() as u64,
        "feed loaded"
    );
    Ok(())
}

/// Why a card is shown, for people and for programs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardReason {
    /// `following`, `liked_by_people_like_you`, `popular_in_topic`, `new` or `trending`.
    pub kind: &'static str,
    /// The topic, for `popular_in_topic`.
    pub topic: Option<String>,
    /// In English; pages show it in the reader's language.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedCard {
    pub note: Note,
    pub reason: CardReason,
}

impl CardReason {
    fn of(card: &Card, topic_names: &TopicNames) -> CardReason {
        let (kind, topic) = match &card.reason {
            Reason::Following { .. } => ("following", None),
            Reason::LikedByPeopleLikeYou => ("liked_by_people_like_you", None),
            Reason::PopularInTopic { topic } => {
                ("popular_in_topic", topic_names.get(topic).cloned())
            }
            Reason::New => ("new", None),
            Reason::Trending => ("trending", None),
        };
        CardReason {
            kind,
            topic,
            text: String::new(),
        }
    }

    /// The reason in words, in the language of `t`; `author` is the note's author's name.
    pub fn describe(&self, t: &Texts, author: &str) -> String {
        match (self.kind, &self.topic) {
            ("following", _) => format!("{} {author}", t.reason_following),
            ("liked_by_people_like_you", _) => t.reason_similar.to_owned(),
            ("popular_in_topic", Some(topic)) => format!("{} #{topic}", t.reason_topic),
            ("new", _) => t.reason_new.to_owned(),
            _ => t.reason_trending.to_owned(),
        }
    }
}

impl Inner {
    /// Cards with their reasons, which name topics.
    fn with_reasons(&self, cards: Vec<Card>) -> Vec<(Card, CardReason)> {
        cards
            .into_iter()
            .map(|card| {
                let reason = CardReason::of(&card, &self.topic_names);
                (card, reason)
            })
            .collect()
    }
}

/// Asks the engine for cards on a blocking thread: a page holds the engine's lock for a fraction
/// of a millisecond, and a request waiting for it must not stall the async workers, which serve
/// every other request meanwhile.
async fn cards_from<T: Send + 'static>(
    state: &AppState,
    ask: impl FnOnce(&mut Inner) -> T + Send + 'static,
) -> AppResult<T> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || state.feed.with(ask))
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

/// Turns cards into notes the viewer may see, in card order.
async fn hydrate(
    state: &AppState,
    viewer: Option<&User>,
    cards: Vec<(Card, CardReason)>,
) -> AppResult<Vec<FeedCard>> {
    let ids: Vec<i64> = cards.iter().map(|(c, _)| c.note).collect();
    let notes = crate::notes::service::public(state, viewer, &ids).await?;
    Ok(cards
        .into_iter()
        .filter_map(|(card, mut reason)| {
            let note = notes.iter().find(|n| n.id.as_i64() == card.note)?;
            reason.text = reason.describe(&i18n::EN, &note.author.display_name);
            Some(FeedCard {
                reason,
                note: note.clone(),
            })
        })
        .collect())
}

/// Explore: personalised for a signed-in reader; for everyone else the popular-and-fresh feed.
pub async fn explore(
    state: &AppState,
    viewer: Option<&User>,
    page: &PageRequest,
) -> AppResult<Page<FeedCard>> {
    let (size, offset) = page_position(page)?;
    let now = Timestamp::now().as_millis();
    let reader = viewer.map(|v| v.id.as_i64());
    let cards = cards_from(state, move |inner| {
        let cards = match reader {
            Some(reader) => inner.engine.explore(reader, now, size as usize),
            None => inner.engine.popular(now, offset, size as usize),
        };
        inner.with_reasons(cards)
    })
    .await?;
    ranked_page(state, viewer, cards, size as usize, offset).await
}

/// A page of ranked cards. For a signed-in reader the cursor only says "more" (what they were
/// shown is not shown again); for everyone else it is the position of the next card.
async fn ranked_page(
    state: &AppState,
    viewer: Option<&User>,
    cards: Vec<(Card, CardReason)>,
    size: usize,
    offset: usize,
) -> AppResult<Page<FeedCard>> {
    let full = cards.len() == size;
    let items = hydrate(state, viewer, cards).await?;
    let next = match viewer {
        Some(_) => (offset + 1).min(kernel::MAX_POSITION),
        None => offset + size,
    };
    Ok(Page {
        items,
        next_cursor: full.then(|| kernel::next_position(next)).flatten(),
    })
}

/// Following: newest first from the people the reader follows; the cursor is the last note.
pub async fn following(
    state: &AppState,
    viewer: &User,
    page: &PageRequest,
) -> AppResult<Page<FeedCard>> {
    let (size, before) = page_bounds(page)?;
    let reader = viewer.id.as_i64();
    let cards = cards_from(state, move |inner| {
        let cards = inner.engine.following(reader, before, size as usize);
        inner.with_reasons(cards)
    })
    .await?;
    let last = (cards.len() == size as usize)
        .then(|| cards.last().map(|(c, _)| c.note))
        .flatten();
    let items = hydrate(state, Some(viewer), cards).await?;
    Ok(Page {
        items,
        next_cursor: last.map(|id| Cursor(id).encode()),
    })
}

/// A topic channel: for a signed-in reader without what they were shown before; for everyone
/// else paged by position.
pub async fn topic(
    state: &AppState,
    viewer: Option<&User>,
    name: &str,
    page: &PageRequest,
) -> AppResult<Page<FeedCard>> {
    let (size, offset) = page_position(page)?;
    let now = Timestamp::now().as_millis();
    let reader = viewer.map(|v| v.id.as_i64());
    let name = name.trim().trim_start_matches('#').to_lowercase();
    let cards = cards_from(state, move |inner| {
        let topics: Vec<i64> = Channel::of(&name)
            .names()
            .into_iter()
            .filter_map(|n| inner.topic_id(n).ok())
            .collect();
        if topics.is_empty() {
            return Err(AppError::NotFound("topic"));
        }
        let cards = match reader {
            Some(reader) => inner.engine.topic(reader, &topics, now, size as usize),
            None => inner
                .engine
                .topic_for_anyone(&topics, now, offset, size as usize),
        };
        Ok::<_, AppError>(inner.with_reasons(cards))
    })
    .await??;
    ranked_page(state, viewer, cards, size as usize, offset).await
}

/// The topic channels worth a tab, those with the most notes, each named for a reader of
/// Chinese or of English; a topic with a name in each language is one channel.
pub fn channels(state: &AppState, count: usize, chinese: bool) -> Vec<String> {
    let names: Vec<String> = state.feed.with(|inner| {
        // Twice as many topics as tabs: two of them may be one channel.
        inner
            .engine
            .busiest_topics(count * 2)
            .iter()
            .filter_map(|t| inner.topic_names.get(t).cloned())
            .collect()
    });
    let mut channels: Vec<String> = Vec::with_capacity(count);
    for name in &names {
        let shown = Channel::of(name).name(chinese).to_owned();
        if channels.len() < count && !channels.contains(&shown) {
            channels.push(shown);
        }
    }
    channels
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FeedEvent {
    pub note_id: Id,
    pub kind: EventKind,
}

/// How a batch of events was taken.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventsTaken {
    pub accepted: usize,
    /// Events about notes the feed does not hold (deleted, private, or older than the window).
    pub ignored: usize,
}

/// The most events one request may carry.
pub const MAX_EVENTS: usize = 500;

/// Records a batch of card events; the engine learns from them through the change log.
pub async fn record_events(
    state: &AppState,
    reader: &User,
    events: &[FeedEvent],
) -> AppResult<EventsTaken> {
    if events.len() > MAX_EVENTS {
        return Err(AppError::invalid(
            "events",
            format!("at most {MAX_EVENTS} per request"),
        ));
    }
    let known: Vec<(Id, EventKind)> = state.feed.with(|inner| {
        events
            .iter()
            .filter(|e| inner.engine.holds(e.note_id.as_i64()))
            .map(|e| (e.note_id, e.kind))
            .collect()
    });
    let accepted = known.len();
    if !known.is_empty() {
        let now = Timestamp::now().as_millis();
        let mut tx = state.db.begin_write().await?;
        store::insert_events(&mut tx, state.db.backend(), reader.id, &known, now).await?;
        let change = Change::CardEvents {
            reader: reader.id,
            at_ms: now,
            events: known,
        };
        state.changes.record(&mut tx, change).await?;
        state.changes.commit(tx).await?;
    }
    Ok(EventsTaken {
        accepted,
        ignored: events.len() - accepted,
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Interest {
    pub topic: String,
    pub weight: f32,
}

/// The interest tags the platform keeps about a reader.
pub fn interests(state: &AppState, reader: &User) -> Vec<Interest> {
    state.feed.with(|inner| {
        inner
            .engine
            .interests(reader.id.as_i64())
            .into_iter()
            .filter_map(|(topic, weight)| {
                Some(Interest {
                    topic: inner.topic_names.get(&topic)?.clone(),
                    weight,
                })
            })
            .collect()
    })
}

/// Deletes an interest tag, for good: the deletion is stored so a rebuilt feed keeps it.
pub async fn forget_interest(state: &AppState, reader: &User, name: &str) -> AppResult<()> {
    let topic = state.feed.with(|inner| inner.topic_id(name))?;
    let now = Timestamp::now().as_millis();
    let mut tx = state.db.begin_write().await?;
    store::forget_interest(&mut tx, reader.id.as_i64(), topic, now).await?;
    let change = Change::InterestForgotten {
        reader: reader.id,
        topic,
        at_ms: now,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct FeedSettings {
    /// Off: the same popular-and-fresh Explore as everyone, nothing learnt is used.
    pub personalised: bool,
}

pub async fn settings(state: &AppState, reader: &User) -> AppResult<FeedSettings> {
    Ok(FeedSettings {
        personalised: store::personalised(&state.db, reader.id.as_i64()).await?,
    })
}

pub async fn set_settings(
    state: &AppState,
    reader: &User,
    settings: &FeedSettings,
) -> AppResult<FeedSettings> {
    let mut tx = state.db.begin_write().await?;
    store::set_personalised(&mut tx, reader.id.as_i64(), settings.personalised).await?;
    let change = Change::PersonalisationSet {
        reader: reader.id,
        personalised: settings.personalised,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(settings.clone())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedStats {
    pub impressions: u64,
    /// Share of impressions that went to creators with fewer than 1,000 followers.
    pub small_creator_share: f64,
    /// (day as YYYY-MM-DD, promotions to a larger traffic pool).
    pub promotions_by_day: Vec<(String, u64)>,
}

/// Operators' figures (administrators only).
pub fn stats(state: &AppState, viewer: &User) -> AppResult<FeedStats> {
    if !viewer.is_admin() {
        return Err(AppError::Forbidden(
            "only administrators see feed statistics",
        ));
    }
    let stats = state.feed.with(|inner| inner.engine.stats().clone());
    Ok(FeedStats {
        impressions: stats.impressions,
        small_creator_share: if stats.impressions == 0 {
            0.0
        } else {
            stats.impressions_small_creators as f64 / stats.impressions as f64
        },
        promotions_by_day: stats
            .promotions_by_day
            .into_iter()
            .map(|(day, n)| {
                (
                    Timestamp::from_millis(day * 86_400_000).to_rfc3339()[..10].to_owned(),
                    n,
                )
            })
            .collect(),
    })
}
