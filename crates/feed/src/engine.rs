//! The engine: what it knows about notes and readers, how it learns, and the Explore funnel.

use std::collections::{BTreeSet, BinaryHeap, VecDeque};

// Keys are ids the platform issues, so a fast non-keyed hash is safe here; lookups by id are the
// engine's inner loop.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::config::FeedConfig;
use crate::seen::Seen;
use crate::{NoteId, TopicId, UserId, NOBODY};

/// A public note as the feed sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteInfo {
    pub id: NoteId,
    pub author: UserId,
    pub topics: Vec<TopicId>,
    pub created_ms: i64,
}

/// Something a reader did with a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The card was shown.
    Impression,
    /// The card was opened.
    Read,
    Like,
    Collect,
    Comment,
    Share,
    /// Followed the author from the note.
    Follow,
    /// "Not interested": this note goes, notes like it count for less.
    NotInterested,
    /// "Fewer from this author".
    FewerFromAuthor,
}

/// Why a card is on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// You follow its author.
    Following { author: UserId },
    /// People who liked what you liked liked this.
    LikedByPeopleLikeYou,
    /// Popular in a topic you engage with.
    PopularInTopic { topic: TopicId },
    /// A new note in a topic you engage with (or, for someone new, in any topic).
    New,
    /// Popular across Hongshu.
    Trending,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub note: NoteId,
    pub author: UserId,
    pub reason: Reason,
    pub score: f32,
}

/// Figures for operators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub impressions: u64,
    /// Impressions of notes whose authors have fewer than [`SMALL_CREATOR`] followers.
    pub impressions_small_creators: u64,
    /// (day number since the unix epoch, promotions to a larger pool that day).
    pub promotions_by_day: Vec<(i64, u64)>,
}

/// Below this many followers a creator counts as small in the fairness figure.
pub const SMALL_CREATOR: u32 = 1_000;
/// Smoothing for engagement per exposure: every note starts as if it had this much engagement…
const PRIOR_ENGAGED: f32 = 1.0;
/// …over this many exposures (a neutral rate of 0.05).
const PRIOR_EXPOSURES: f32 = 20.0;
/// Notes still filling their first pool are lifted by this factor, so they get their exposures.
const FIRST_POOL_LIFT: f32 = 3.0;
/// Affinity for a topic grows by this much per unit of signal weight, up to `MAX_AFFINITY`.
const LEARNING_RATE: f32 = 0.1;
const MAX_AFFINITY: f32 = 5.0;
/// Recent likes remembered per note and per reader, for co-engagement.
const LIKES_KEPT: usize = 32;
/// A reader's strongest topics used for topic recall.
const TOPICS_RECALLED: usize = 5;
/// How many of a topic's newest notes are looked at to find its popular ones.
const TOPIC_SCAN: usize = 500;
const HOUR_MS: f32 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;

struct NoteState {
    author: UserId,
    topics: Vec<TopicId>,
    created_ms: i64,
    exposures: u32,
    /// Weighted engagement.
    engaged: f32,
    /// Index of the traffic pool the note is in: 0 is the first.
    pool: usize,
    /// Filled its pool without earning promotion: shown from now on only to followers.
    capped: bool,
    likers: VecDeque<UserId>,
    /// Where the note stands in `Engine::trending`.
    trend: Ordered,
}

impl NoteState {
    fn rate(&self) -> f32 {
        (self.engaged + PRIOR_ENGAGED) / (self.exposures as f32 + PRIOR_EXPOSURES)
    }
}

#[derive(Default)]
struct Reader {
    follows: HashSet<UserId>,
    /// Blocked (either way) or muted authors.
    hidden: HashSet<UserId>,
    fewer: HashSet<UserId>,
    not_interested: HashSet<NoteId>,
    affinity: HashMap<TopicId, f32>,
    disliked: HashMap<TopicId, f32>,
    /// Interest tags the reader deleted, and when: signals from before then teach nothing.
    forgotten: HashMap<TopicId, i64>,
    liked: VecDeque<NoteId>,
    seen: Option<Seen>,
    impersonal: bool,
}

impl Reader {
    /// Someone signed out: nothing known, nothing personal.
    fn anyone() -> Reader {
        Reader {
            impersonal: true,
            ..Reader::default()
        }
    }
}

pub struct Engine {
    config: FeedConfig,
    notes: HashMap<NoteId, NoteState>,
    /// Note ids per topic and per author, oldest first (ids are time-ordered).
    by_topic: HashMap<TopicId, Vec<NoteId>>,
    by_author: HashMap<UserId, Vec<NoteId>>,
    readers: HashMap<UserId, Reader>,
    followers: HashMap<UserId, u32>,
    /// Notes still filling their first pool.
    first_pool: BTreeSet<NoteId>,
    /// Every uncapped note by popularity, least first. Freshness decays every note's popularity
    /// by the same factor, so the order holds over time and changes only when a note's
    /// engagement does: this is kept up to date as signals arrive, never recomputed.
    trending: BTreeSet<(Ordered, NoteId)>,
    stats: Stats,
}

impl Engine {
    pub fn new(config: FeedConfig) -> Engine {
        Engine {
            config,
            notes: HashMap::default(),
            by_topic: HashMap::default(),
            by_author: HashMap::default(),
            readers: HashMap::default(),
            followers: HashMap::default(),
            first_pool: BTreeSet::new(),
            trending: BTreeSet::new(),
            stats: Stats::default(),
        }
    }

    pub fn config(&self) -> &FeedConfig {
        &self.config
    }

    /// A note became public (or changed its topics).
    pub fn add_note(&mut self, note: NoteInfo) {
        self.remove_note(note.id);
        for topic in &note.topics {
            insert_sorted(self.by_topic.entry(*topic).or_default(), note.id);
        }
        insert_sorted(self.by_author.entry(note.author).or_default(), note.id);
        self.first_pool.insert(note.id);
        let mut state = NoteState {
            author: note.author,
            topics: note.topics,
            created_ms: note.created_ms,
            exposures: 0,
            engaged: 0.0,
            pool: 0,
            capped: false,
            likers: VecDeque::new(),
            trend: Ordered(0.0),
        };
        state.trend = self.trend_key(&state);
        self.trending.insert((state.trend, note.id));
        self.notes.insert(note.id, state);
    }

    /// A note was deleted, made private or taken down: it leaves every feed at once.
    pub fn remove_note(&mut self, id: NoteId) {
        let Some(note) = self.notes.remove(&id) else {
            return;
        };
        for topic in &note.topics {
            if let Some(ids) = self.by_topic.get_mut(topic) {
                remove_sorted(ids, id);
            }
        }
        if let Some(ids) = self.by_author.get_mut(&note.author) {
            remove_sorted(ids, id);
        }
        self.first_pool.remove(&id);
        self.trending.remove(&(note.trend, id));
    }

    pub fn set_follow(&mut self, reader: UserId, author: UserId, following: bool) {
        let changed = if following {
            self.reader(reader).follows.insert(author)
        } else {
            self.reader(reader).follows.remove(&author)
        };
        if changed {
            let count = self.followers.entry(author).or_default();
            *count = if following {
                count.saturating_add(1)
            } else {
                count.saturating_sub(1)
            };
        }
    }

    /// Hides an author from a reader (a block, either way, or a mute), or shows them again.
    pub fn set_hidden(&mut self, reader: UserId, author: UserId, hidden: bool) {
        let hidden_set = &mut self.reader(reader).hidden;
        if hidden {
            hidden_set.insert(author);
        } else {
            hidden_set.remove(&author);
        }
    }

    /// With personalisation off a reader gets the same popular-and-fresh feed as everyone.
    pub fn set_personalised(&mut self, reader: UserId, personalised: bool) {
        self.reader(reader).impersonal = !personalised;
    }

    /// The interest tags kept about a reader, strongest first.
    pub fn interests(&self, reader: UserId) -> Vec<(TopicId, f32)> {
        let mut out: Vec<(TopicId, f32)> = self
            .readers
            .get(&reader)
            .map(|r| r.affinity.iter().map(|(t, a)| (*t, *a)).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Deletes an interest tag at `at_ms`; it grows again only from engagement after that,
    /// also when the history is replayed later.
    pub fn forget_interest(&mut self, reader: UserId, topic: TopicId, at_ms: i64) {
        let reader = self.reader(reader);
        reader.affinity.remove(&topic);
        let forgotten = reader.forgotten.entry(topic).or_insert(at_ms);
        *forgotten = (*forgotten).max(at_ms);
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn len(&self) -> usize {
        self.notes.len()
    }

    /// Whether the note is in the feed (public and within the window when loaded).
    pub fn holds(&self, note: NoteId) -> bool {
        self.notes.contains_key(&note)
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }

    fn reader(&mut self, id: UserId) -> &mut Reader {
        self.readers.entry(id).or_default()
    }

    /// Learns from what a reader did with a note.
    pub fn signal(&mut self, reader: UserId, note_id: NoteId, signal: Signal, now_ms: i64) {
        self.learn(reader, note_id, signal, now_ms);
        self.retrend(note_id);
    }

    /// Learns from a whole history at once (loading at start): the trending order is put
    /// right once at the end rather than after every signal. An impression of a known reader
    /// (not [`NOBODY`]) is also remembered as seen by them, in the order given.
    pub fn replay(&mut self, history: impl IntoIterator<Item = (UserId, NoteId, Signal, i64)>) {
        for (reader, note, signal, at) in history {
            self.learn(reader, note, signal, at);
            if signal == Signal::Impression && reader != NOBODY && self.notes.contains_key(&note) {
                self.remember_shown(reader, [note]);
            }
        }
        let keys: Vec<(Ordered, NoteId)> = self
            .notes
            .iter()
            .filter(|(_, note)| !note.capped)
            .map(|(id, note)| (self.trend_key(note), *id))
            .collect();
        for (key, id) in &keys {
            if let Some(note) = self.notes.get_mut(id) {
                note.trend = *key;
            }
        }
        self.trending = keys.into_iter().collect();
    }

    fn learn(&mut self, reader: UserId, note_id: NoteId, signal: Signal, now_ms: i64) {
        let Some(note) = self.notes.get_mut(&note_id) else {
            return;
        };
        let w = &self.config.weights;
        let weight = match signal {
            Signal::Like => w.like,
            Signal::Collect => w.collect,
            Signal::Comment => w.comment,
            Signal::Share => w.share,
            Signal::Follow => w.follow,
            Signal::Read => 0.5,
            Signal::Impression | Signal::NotInterested | Signal::FewerFromAuthor => 0.0,
        };
        if signal == Signal::Impression {
            // Counts for the note alone: nothing is learnt about the reader.
            note.exposures += 1;
            self.stats.impressions += 1;
            if self.followers.get(&note.author).copied().unwrap_or(0) < SMALL_CREATOR {
                self.stats.impressions_small_creators += 1;
            }
            self.review_pool(note_id, now_ms);
            return;
        }
        let author = note.author;
        let topics = note.topics.clone();
        match signal {
            Signal::Impression | Signal::Read => {}
            Signal::NotInterested | Signal::FewerFromAuthor => {}
            _ => note.engaged += weight,
        }
        if signal == Signal::Like {
            push_capped(&mut note.likers, reader);
        }
        self.review_pool(note_id, now_ms);
        let reader = self.reader(reader);
        match signal {
            Signal::NotInterested => {
                reader.not_interested.insert(note_id);
                for topic in &topics {
                    *reader.disliked.entry(*topic).or_default() += 1.0;
                    if let Some(a) = reader.affinity.get_mut(topic) {
                        *a *= 0.5;
                    }
                }
            }
            Signal::FewerFromAuthor => {
                reader.fewer.insert(author);
            }
            _ => {
                for topic in &topics {
                    if reader.forgotten.get(topic).is_some_and(|at| now_ms < *at) {
                        continue;
                    }
                    let a = reader.affinity.entry(*topic).or_default();
                    *a = (*a + weight * LEARNING_RATE).min(MAX_AFFINITY);
                }
                if signal == Signal::Like {
                    push_capped(&mut reader.liked, note_id);
                }
            }
        }
    }

    /// Promotes a note that filled its pool with enough engagement; caps one that did not.
    fn review_pool(&mut self, id: NoteId, now_ms: i64) {
        let pools = &self.config.pools;
        let Some(note) = self.notes.get_mut(&id) else {
            return;
        };
        let size = match note.pool {
            0 => pools.first,
            n => match pools.larger.get(n - 1) {
                Some(size) => *size,
                None => return, // the largest pool has no end
            },
        };
        if note.capped || note.exposures < size {
            return;
        }
        if note.engaged / note.exposures.max(1) as f32 >= pools.promote_at {
            note.pool += 1;
            let day = now_ms.div_euclid(DAY_MS);
            match self.stats.promotions_by_day.last_mut() {
                Some((d, count)) if *d == day => *count += 1,
                _ => self.stats.promotions_by_day.push((day, 1)),
            }
        } else {
            note.capped = true;
        }
        self.first_pool.remove(&id);
    }

    /// Moves a note to where its engagement now puts it among the trending, or out when capped.
    fn retrend(&mut self, id: NoteId) {
        let Some(note) = self.notes.get(&id) else {
            return;
        };
        let (old, new, capped) = (note.trend, self.trend_key(note), note.capped);
        if old == new && !capped {
            return;
        }
        let was_trending = self.trending.remove(&(old, id));
        if !was_trending || capped {
            return;
        }
        self.trending.insert((new, id));
        if let Some(note) = self.notes.get_mut(&id) {
            note.trend = new;
        }
    }

    /// The logarithm of a note's popularity, less the part every note shares at a given
    /// moment: ln(rate) − age / half-life · ln 2, without the reader's clock.
    fn trend_key(&self, note: &NoteState) -> Ordered {
        let half_life_ms = f64::from(self.config.half_life_hours) * f64::from(HOUR_MS);
        Ordered(
            f64::from(note.rate()).ln()
                + note.created_ms as f64 / half_life_ms * std::f64::consts::LN_2,
        )
    }

    /// One Explore page: recall, score, re-rank for diversity. The notes on it are remembered
    /// as seen by this reader and not shown again.
    pub fn explore(&mut self, reader_id: UserId, now_ms: i64, limit: usize) -> Vec<Card> {
        self.reader(reader_id);
        let reader = &self.readers[&reader_id];
        let candidates = self.recall(reader, now_ms);
        let page = self.rank(reader_id, reader, candidates, now_ms, limit);
        self.remember_shown(reader_id, page.iter().map(|card| card.note));
        page
    }

    /// Explore for someone signed out: the popular-and-fresh feed everyone without
    /// personalisation gets, paged by position (nothing is remembered about them).
    pub fn popular(&self, now_ms: i64, offset: usize, limit: usize) -> Vec<Card> {
        let candidates = self.recall(&Reader::anyone(), now_ms);
        self.page_for_anyone(candidates, now_ms, offset, limit)
    }

    /// A topic channel: the popular and new notes of its topics (one topic, or the same one
    /// under names in several languages), ranked like Explore.
    pub fn topic(
        &mut self,
        reader_id: UserId,
        topics: &[TopicId],
        now_ms: i64,
        limit: usize,
    ) -> Vec<Card> {
        let candidates = self.topic_candidates(topics, now_ms);
        self.reader(reader_id);
        let page = self.rank(
            reader_id,
            &self.readers[&reader_id],
            candidates,
            now_ms,
            limit,
        );
        self.remember_shown(reader_id, page.iter().map(|card| card.note));
        page
    }

    /// A topic channel for someone signed out, paged by position like [`Engine::popular`].
    pub fn topic_for_anyone(
        &self,
        topics: &[TopicId],
        now_ms: i64,
        offset: usize,
        limit: usize,
    ) -> Vec<Card> {
        let candidates = self.topic_candidates(topics, now_ms);
        self.page_for_anyone(candidates, now_ms, offset, limit)
    }

    /// The topics with the most notes, most first: the channels worth a tab.
    pub fn busiest_topics(&self, count: usize) -> Vec<TopicId> {
        let mut topics: Vec<(usize, TopicId)> = self
            .by_topic
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(topic, ids)| (ids.len(), *topic))
            .collect();
        // Asked for on every Explore page: pick the few busiest without sorting every topic.
        let busiest_first =
            |a: &(usize, TopicId), b: &(usize, TopicId)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if count < topics.len() {
            topics.select_nth_unstable_by(count, busiest_first);
            topics.truncate(count);
        }
        topics.sort_by(busiest_first);
        topics.into_iter().map(|(_, t)| t).collect()
    }

    /// Each note once, under the first of the topics it is in.
    fn topic_candidates(&self, topics: &[TopicId], now_ms: i64) -> Vec<(NoteId, Reason)> {
        let mut seen = HashSet::default();
        topics
            .iter()
            .flat_map(|&topic| {
                self.topic_notes(topic, now_ms, self.config.recall.topics, |_| true)
                    .into_iter()
                    .map(move |id| (id, Reason::PopularInTopic { topic }))
            })
            .filter(|(id, _)| seen.insert(*id))
            .collect()
    }

    fn page_for_anyone(
        &self,
        candidates: Vec<(NoteId, Reason)>,
        now_ms: i64,
        offset: usize,
        limit: usize,
    ) -> Vec<Card> {
        let anyone = Reader::anyone();
        let depth = offset.saturating_add(limit);
        let mut page = self.rank(UserId::MIN, &anyone, candidates, now_ms, depth);
        page.drain(..offset.min(page.len()));
        page
    }

    fn remember_shown(&mut self, reader_id: UserId, notes: impl IntoIterator<Item = NoteId>) {
        let (capacity, rate) = (self.config.seen_capacity, self.config.seen_false_positives);
        let seen = self
            .reader(reader_id)
            .seen
            .get_or_insert_with(|| Seen::new(capacity, rate));
        for note in notes {
            seen.insert(note);
        }
    }

    /// Following: newest first from the people a reader follows, before the cursor note.
    pub fn following(&self, reader_id: UserId, before: Option<NoteId>, limit: usize) -> Vec<Card> {
        let Some(reader) = self.readers.get(&reader_id) else {
            return Vec::new();
        };
        let before = before.unwrap_or(NoteId::MAX);
        let mut heads: BinaryHeap<(NoteId, UserId, usize)> = BinaryHeap::new();
        for author in reader.follows.iter().filter(|a| !reader.hidden.contains(a)) {
            if let Some(ids) = self.by_author.get(author) {
                let end = ids.partition_point(|id| *id < before);
                if end > 0 {
                    heads.push((ids[end - 1], *author, end - 1));
                }
            }
        }
        let mut page = Vec::with_capacity(limit);
        while page.len() < limit {
            let Some((id, author, at)) = heads.pop() else {
                break;
            };
            page.push(Card {
                note: id,
                author,
                reason: Reason::Following { author },
                score: 0.0,
            });
            if at > 0 {
                heads.push((self.by_author[&author][at - 1], author, at - 1));
            }
        }
        page
    }

    fn oldest_ms(&self, now_ms: i64) -> i64 {
        now_ms - i64::from(self.config.window_days) * DAY_MS
    }

    /// Engagement per exposure, decayed by age.
    fn popularity(&self, note: &NoteState, now_ms: i64) -> f32 {
        let age_hours = (now_ms - note.created_ms).max(0) as f32 / HOUR_MS;
        note.rate() * 0.5f32.powf(age_hours / self.config.half_life_hours)
    }

    /// A topic's most popular notes among its newest.
    fn topic_notes(
        &self,
        topic: TopicId,
        now_ms: i64,
        size: usize,
        keep: impl Fn(NoteId) -> bool,
    ) -> Vec<NoteId> {
        let Some(ids) = self.by_topic.get(&topic) else {
            return Vec::new();
        };
        let oldest = self.oldest_ms(now_ms);
        let mut scored: Vec<(f32, NoteId)> = ids
            .iter()
            .rev()
            .take(TOPIC_SCAN)
            .filter_map(|id| {
                let note = &self.notes[id];
                (note.created_ms >= oldest && !note.capped && keep(*id))
                    .then(|| (self.popularity(note, now_ms), *id))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(size).map(|(_, id)| id).collect()
    }

    /// Candidates from every source, each with the reason of the first source that found it.
    fn recall(&self, reader: &Reader, now_ms: i64) -> Vec<(NoteId, Reason)> {
        let sizes = &self.config.recall;
        let mut out: Vec<(NoteId, Reason)> = Vec::new();
        let oldest = self.oldest_ms(now_ms);
        // Sources that rank their notes skip what the reader has seen, so that a reader who
        // scrolls on gets the next best instead of the same candidates filtered away again.
        let unseen = |id: NoteId| !reader.seen.as_ref().is_some_and(|s| s.contains(id));
        if !reader.impersonal {
            for author in &reader.follows {
                let Some(ids) = self.by_author.get(author) else {
                    continue;
                };
                for id in ids.iter().rev().take(5) {
                    if self.notes[id].created_ms >= oldest {
                        out.push((*id, Reason::Following { author: *author }));
                    }
                }
            }
            out.truncate(sizes.following);
            let mut coengaged = Vec::new();
            'outer: for liked in reader.liked.iter().rev().take(10) {
                let Some(note) = self.notes.get(liked) else {
                    continue;
                };
                for liker in &note.likers {
                    let Some(other) = self.readers.get(liker) else {
                        continue;
                    };
                    for id in other.liked.iter().rev().take(10) {
                        coengaged.push((*id, Reason::LikedByPeopleLikeYou));
                        if coengaged.len() >= sizes.coengaged {
                            break 'outer;
                        }
                    }
                }
            }
            out.extend(coengaged);
            let mut topics: Vec<(&TopicId, &f32)> = reader.affinity.iter().collect();
            topics.sort_by(|a, b| b.1.total_cmp(a.1));
            let per_topic = sizes.topics / TOPICS_RECALLED;
            for (topic, _) in topics.into_iter().take(TOPICS_RECALLED) {
                for id in self.topic_notes(*topic, now_ms, per_topic, unseen) {
                    out.push((id, Reason::PopularInTopic { topic: *topic }));
                }
            }
        }
        let interested = |note: &NoteState| {
            reader.impersonal
                || reader.affinity.is_empty()
                || note.topics.iter().any(|t| reader.affinity.contains_key(t))
        };
        let fresh = self
            .first_pool
            .iter()
            .rev()
            .filter(|id| {
                let note = &self.notes[*id];
                note.created_ms >= oldest && interested(note) && unseen(**id)
            })
            .take(sizes.fresh)
            .map(|id| (*id, Reason::New));
        out.extend(fresh);
        let trending = self
            .trending
            .iter()
            .rev()
            .filter(|(_, id)| self.notes[id].created_ms >= oldest && unseen(*id))
            .take(sizes.trending)
            .map(|(_, id)| (*id, Reason::Trending));
        out.extend(trending);
        out
    }

    /// Scores the candidates the reader may see and picks a diverse page.
    fn rank(
        &self,
        reader_id: UserId,
        reader: &Reader,
        candidates: Vec<(NoteId, Reason)>,
        now_ms: i64,
        limit: usize,
    ) -> Vec<Card> {
        let oldest = self.oldest_ms(now_ms);
        let mut taken = HashSet::default();
        let mut scored: Vec<Card> = Vec::with_capacity(candidates.len());
        for (id, reason) in candidates {
            let Some(note) = self.notes.get(&id) else {
                continue;
            };
            let following = matches!(reason, Reason::Following { .. });
            if !taken.insert(id)
                || note.author == reader_id
                || note.created_ms < oldest
                || (note.capped && !following)
                || reader.hidden.contains(&note.author)
                || reader.not_interested.contains(&id)
                || reader.seen.as_ref().is_some_and(|s| s.contains(id))
            {
                continue;
            }
            scored.push(Card {
                note: id,
                author: note.author,
                score: self.score(reader, note, now_ms),
                reason,
            });
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.note.cmp(&a.note)));
        self.diversify(scored, limit)
    }

    /// Popularity × the reader's affinity for the note's topics, lifted while the note fills
    /// its first pool, lowered by the reader's negative feedback.
    fn score(&self, reader: &Reader, note: &NoteState, now_ms: i64) -> f32 {
        let mut score = self.popularity(note, now_ms);
        if !reader.impersonal {
            let affinity: f32 = note
                .topics
                .iter()
                .filter_map(|t| reader.affinity.get(t))
                .sum();
            let disliked: f32 = note
                .topics
                .iter()
                .filter_map(|t| reader.disliked.get(t))
                .sum();
            score *= (1.0 + affinity.min(MAX_AFFINITY)) / (1.0 + disliked);
            if reader.fewer.contains(&note.author) {
                score *= 0.2;
            }
        }
        if note.pool == 0 && !note.capped {
            score *= FIRST_POOL_LIFT;
        }
        score
    }

    /// Greedy re-ranking: the best card that does not repeat an author within
    /// `author_spacing` cards or a first topic within `topic_spacing`; when none fits, the best.
    fn diversify(&self, mut scored: Vec<Card>, limit: usize) -> Vec<Card> {
        let mut page: Vec<Card> = Vec::with_capacity(limit);
        let first_topic = |card: &Card| self.notes[&card.note].topics.first().copied();
        while page.len() < limit && !scored.is_empty() {
            let authors: Vec<UserId> = page
                .iter()
                .rev()
                .take(self.config.author_spacing.saturating_sub(1))
                .map(|c| c.author)
                .collect();
            let topics: Vec<Option<TopicId>> = page
                .iter()
                .rev()
                .take(self.config.topic_spacing.saturating_sub(1))
                .map(first_topic)
                .collect();
            let fits = scored.iter().position(|c| {
                !authors.contains(&c.author)
                    && (first_topic(c).is_none() || !topics.contains(&first_topic(c)))
            });
            page.push(scored.remove(fits.unwrap_or(0)));
        }
        page
    }
}

/// Keeps a list of time-ordered ids sorted when a late or re-added note arrives.
fn insert_sorted(ids: &mut Vec<NoteId>, id: NoteId) {
    let at = ids.partition_point(|n| *n < id);
    ids.insert(at, id);
}

fn remove_sorted(ids: &mut Vec<NoteId>, id: NoteId) {
    if let Ok(at) = ids.binary_search(&id) {
        ids.remove(at);
    }
}

fn push_capped<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == LIKES_KEPT {
        list.pop_front();
    }
    list.push_back(item);
}

/// An `f64` that sorts (scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ordered(f64);

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
