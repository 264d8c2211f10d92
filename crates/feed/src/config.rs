//! The feed's knobs, with the defaults the platform ships. The application reads them from its
//! configuration (`[feed]`, `[feed.recall]`, `[feed.weights]`, `[feed.pools]`).

use serde::{Deserialize, Serialize};

/// How many candidates each recall source may bring to one Explore page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecallSizes {
    /// Recent notes of people one follows.
    pub following: usize,
    /// Best-performing recent notes in the topics one engages with.
    pub topics: usize,
    /// The best-performing recent notes of all.
    pub trending: usize,
    /// New notes still in their first traffic pool.
    pub fresh: usize,
    /// Notes liked by people who liked what one liked.
    pub coengaged: usize,
}

/// How much each kind of engagement counts in a note's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalWeights {
    pub like: f32,
    pub collect: f32,
    pub comment: f32,
    pub share: f32,
    pub follow: f32,
}

/// Traffic pools: a new note is shown to `first` interested people; when its engagement per
/// exposure beats `promote_at` it moves to the next, larger pool, else it stops growing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    pub first: u32,
    pub larger: Vec<u32>,
    /// Weighted engagement per exposure needed to be promoted.
    pub promote_at: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Explore recalls notes up to this old.
    pub window_days: u32,
    pub recall: RecallSizes,
    pub weights: SignalWeights,
    pub pools: Pools,
    /// A note's score halves every this many hours.
    pub half_life_hours: f32,
    /// No two cards of one author within this many consecutive cards.
    pub author_spacing: usize,
    /// No two cards of one first topic within this many consecutive cards.
    pub topic_spacing: usize,
    /// Notes remembered as seen per person before the oldest half is forgotten.
    pub seen_capacity: usize,
    /// Largest false-positive rate of the seen-note filter.
    pub seen_false_positives: f64,
    /// Impressions of the last this many days are remembered as seen again when the feed is
    /// rebuilt at start, so a restart does not show people what they have just scrolled past.
    pub seen_days: u32,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            window_days: 30,
            recall: RecallSizes {
                following: 100,
                topics: 200,
                trending: 100,
                fresh: 100,
                coengaged: 100,
            },
            weights: SignalWeights {
                like: 1.0,
                collect: 1.0,
                comment: 4.0,
                share: 4.0,
                follow: 8.0,
            },
            pools: Pools {
                first: 200,
                larger: vec![2_000, 10_000, 100_000],
                promote_at: 0.05,
            },
            half_life_hours: 72.0,
            author_spacing: 5,
            topic_spacing: 2,
            seen_capacity: 2_000,
            seen_false_positives: 0.01,
            seen_days: 7,
        }
    }
}
