//! Search in Chinese and English over notes, members and topics: the `search` engine kept
//! current from the database, the search API and page, and suggestions while typing.

pub mod api;
pub mod indexer;
pub mod pages;
pub mod service;
pub mod store;
pub mod types;
