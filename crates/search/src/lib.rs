//! Hongshu's search engine: an index of notes, members, topics and products, tokenised for Chinese
//! (jieba word segmentation) and English (case folding and stemming) alike. No HTTP, no SQL:
//! the application feeds it documents and asks it questions.

mod analyzer;
#[cfg(feature = "corpus")]
pub mod corpus;
mod index;
mod snippet;

pub use analyzer::{analyzer, tokens, ANALYZER};
pub use index::{
    Hit, Kind, NoteDoc, ProductDoc, Query, SearchError, SearchIndex, Sort, TopicDoc, UserDoc,
    Weights, MAX_DEPTH,
};
