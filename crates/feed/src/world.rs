//! A synthetic world with planted interests, for the offline evaluation and the benchmarks.
//!
//! Every member cares about two or three topics (the planted truth); a fifth of them are
//! creators writing mostly about one topic; follows gather on a few popular creators, so
//! follower counts have a long tail; and engagement events come from members reading and
//! liking mostly what matches their interests, more often when a note is good. The same seed
//! gives the same world, so the engine, a baseline and a database can all be fed one world.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Engine, NoteId, NoteInfo, Signal, TopicId, UserId};

/// The topic channels of the world; topic `i` has id `i + 1`.
pub const TOPICS: [&str; 12] = [
    "beauty",
    "fashion",
    "food",
    "travel",
    "home",
    "fitness",
    "pets",
    "parenting",
    "tech",
    "books",
    "photography",
    "outdoors",
];

/// One in this many members is a creator.
const CREATOR_EVERY: usize = 5;
/// Share of visits that wander outside a member's interests.
const WANDER: f64 = 0.15;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy)]
pub struct WorldSize {
    pub users: usize,
    pub notes: usize,
    pub events: usize,
    /// Notes are created evenly over this many days before `now`.
    pub days: u32,
}

pub struct Member {
    pub id: UserId,
    /// The planted truth: the topics this member cares about.
    pub interests: Vec<TopicId>,
}

pub struct World {
    pub size: WorldSize,
    pub now_ms: i64,
    /// Member `i` has id `i + 1`.
    pub members: Vec<Member>,
    /// Oldest first, ids increasing with time.
    pub notes: Vec<NoteInfo>,
    /// How good each note is, in 0..1 (parallel to `notes`).
    pub quality: Vec<f32>,
    pub follows: Vec<(UserId, UserId)>,
    /// Followers per member (index = id - 1).
    pub followers: Vec<u32>,
    /// Indexes into `notes` per topic (index = topic id - 1).
    by_topic: Vec<Vec<usize>>,
    seed: u64,
}

/// One thing a member did: (reader, note, signal, when).
pub type Event = (UserId, NoteId, Signal, i64);

impl World {
    /// Generates a world. `first_id_at(ms)` gives the smallest note id for a creation time, so
    /// the ids suit whoever stores them; notes created in one millisecond count up from it.
    pub fn generate(
        size: WorldSize,
        seed: u64,
        now_ms: i64,
        first_id_at: impl Fn(i64) -> i64,
    ) -> World {
        let mut rng = StdRng::seed_from_u64(seed);
        let topic_count = TOPICS.len();
        let members: Vec<Member> = (0..size.users)
            .map(|i| Member {
                id: i as UserId + 1,
                interests: planted_interests(&mut rng, topic_count),
            })
            .collect();
        let creators = size.users.div_ceil(CREATOR_EVERY).max(1);
        let creator_topic: Vec<TopicId> = (0..creators)
            .map(|_| popular_topic(&mut rng, topic_count))
            .collect();
        let mut creators_by_topic = vec![Vec::new(); topic_count];
        for (creator, topic) in creator_topic.iter().enumerate() {
            creators_by_topic[*topic as usize - 1].push(creator);
        }

        let span_ms = i64::from(size.days) * DAY_MS;
        let mut times: Vec<i64> = (0..size.notes)
            .map(|_| now_ms - rng.gen_range(1..span_ms))
            .collect();
        times.sort_unstable();
        let mut notes = Vec::with_capacity(size.notes);
        let mut quality = Vec::with_capacity(size.notes);
        let mut by_topic = vec![Vec::new(); topic_count];
        let mut last_id = i64::MIN;
        for (index, created_ms) in times.into_iter().enumerate() {
            let id = first_id_at(created_ms).max(last_id + 1);
            last_id = id;
            // A few creators write most notes.
            let creator = skewed(&mut rng, creators, 1.5);
            let mut topics = vec![creator_topic[creator]];
            if rng.gen_bool(0.3) {
                let second = rng.gen_range(1..=topic_count as TopicId);
                if second != topics[0] {
                    topics.push(second);
                }
            }
            for topic in &topics {
                by_topic[*topic as usize - 1].push(index);
            }
            notes.push(NoteInfo {
                id,
                author: creator_id(creator),
                topics,
                created_ms,
            });
            quality.push(rng.gen::<f32>().powi(2));
        }

        let mut follows = Vec::new();
        let mut followers = vec![0u32; size.users];
        for member in &members {
            let wanted = rng.gen_range(5..25);
            let mut chosen = HashSet::new();
            for _ in 0..wanted {
                let creator = if rng.gen_bool(0.8) {
                    let topic = member.interests[rng.gen_range(0..member.interests.len())];
                    let list = &creators_by_topic[topic as usize - 1];
                    if list.is_empty() {
                        continue;
                    }
                    // Stars: the first creators of a topic gather most followers.
                    list[skewed(&mut rng, list.len(), 3.0)]
                } else {
                    rng.gen_range(0..creators)
                };
                let author = creator_id(creator);
                if author != member.id && chosen.insert(author) {
                    follows.push((member.id, author));
                    followers[author as usize - 1] += 1;
                }
            }
        }
        World {
            size,
            now_ms,
            members,
            notes,
            quality,
            follows,
            followers,
            by_topic,
            seed,
        }
    }

    /// The engagement events, generated afresh (the same every time) so twenty million of
    /// them need not sit in memory.
    pub fn events(&self) -> Events<'_> {
        Events {
            world: self,
            rng: StdRng::seed_from_u64(self.seed ^ 0x5eed),
            left: self.size.events,
            pending: Vec::new(),
        }
    }

    /// Whether a note is about something the member cares about (the planted truth).
    pub fn relevant(&self, member: UserId, note: &NoteInfo) -> bool {
        let interests = &self.members[member as usize - 1].interests;
        note.topics.iter().any(|t| interests.contains(t))
    }

    pub fn followers_of(&self, author: UserId) -> u32 {
        self.followers[author as usize - 1]
    }

    /// Feeds the whole world to an engine: notes, follows, then every event.
    pub fn load_into(&self, engine: &mut Engine) {
        for note in &self.notes {
            engine.add_note(note.clone());
        }
        for (reader, author) in &self.follows {
            engine.set_follow(*reader, *author, true);
        }
        engine.replay(self.events());
    }
}

/// Member ids of creators: creator `c` is member `c * CREATOR_EVERY + 1`.
fn creator_id(creator: usize) -> UserId {
    (creator * CREATOR_EVERY) as UserId + 1
}

/// A number in `0..n` where small numbers are much likelier the larger `power` is.
fn skewed(rng: &mut StdRng, n: usize, power: f64) -> usize {
    ((n as f64 * rng.gen::<f64>().powf(power)) as usize).min(n - 1)
}

/// Some topics are far more popular than others.
fn popular_topic(rng: &mut StdRng, topics: usize) -> TopicId {
    skewed(rng, topics, 1.6) as TopicId + 1
}

fn planted_interests(rng: &mut StdRng, topics: usize) -> Vec<TopicId> {
    let wanted = rng.gen_range(2..=3);
    let mut interests = Vec::with_capacity(wanted);
    while interests.len() < wanted {
        let topic = popular_topic(rng, topics);
        if !interests.contains(&topic) {
            interests.push(topic);
        }
    }
    interests
}

/// The world's events: visits of members to notes, each an impression, perhaps a read,
/// perhaps a like.
pub struct Events<'a> {
    world: &'a World,
    rng: StdRng,
    left: usize,
    pending: Vec<Event>,
}

impl Events<'_> {
    fn visit(&mut self) {
        let world = self.world;
        let rng = &mut self.rng;
        // A few members are far more active than the rest.
        let member = &world.members[skewed(rng, world.members.len(), 1.5)];
        let topic = if rng.gen_bool(WANDER) {
            rng.gen_range(1..=TOPICS.len() as TopicId)
        } else {
            member.interests[rng.gen_range(0..member.interests.len())]
        };
        let in_topic = &world.by_topic[topic as usize - 1];
        if in_topic.is_empty() {
            return;
        }
        let index = in_topic[rng.gen_range(0..in_topic.len())];
        let note = &world.notes[index];
        let at = note.created_ms + rng.gen_range(0..(world.now_ms - note.created_ms).max(1));
        let interested = world.relevant(member.id, note);
        let quality = f64::from(world.quality[index]);
        self.pending
            .push((member.id, note.id, Signal::Impression, at));
        if rng.gen_bool(if interested { 0.5 } else { 0.1 }) {
            self.pending.push((member.id, note.id, Signal::Read, at));
        }
        if rng.gen_bool(quality * if interested { 0.4 } else { 0.03 }) {
            self.pending.push((member.id, note.id, Signal::Like, at));
        }
    }
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.left == 0 {
            return None;
        }
        while self.pending.is_empty() {
            self.visit();
        }
        self.left -= 1;
        // Order within a visit does not matter to any consumer; popping is cheapest.
        self.pending.pop()
    }
}
