//! Hongshu's discovery feed: what each person sees on Explore, Following and topic channels.
//!
//! An in-memory engine with no HTTP and no SQL: the application loads it from the database at
//! start and tells it what happens (notes published or removed, follows, blocks, impressions,
//! reads, likes, …). Explore is a staged funnel — recall candidates from several sources, score
//! them, re-rank for diversity — and every card says why it is there.

mod config;
mod engine;
mod seen;
#[cfg(feature = "world")]
pub mod world;

pub use config::{FeedConfig, Pools, RecallSizes, SignalWeights};
pub use engine::{Card, Engine, NoteInfo, Reason, Signal, Stats, SMALL_CREATOR};

pub type UserId = i64;

/// The reader of impressions counted per note, whose readers are not known.
pub const NOBODY: UserId = 0;
pub type NoteId = i64;
pub type TopicId = i64;
