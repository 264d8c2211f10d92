//! The change log: how a change in one domain reaches every other part of Hongshu.
//!
//! A domain service writes its own tables and, in the same transaction, records what happened
//! ([`service::Changes::record`]). Everything derived from it — the search index, the feed, the
//! note cache, notifications — is a subscriber that follows the log (see [`service`]).

pub mod service;
pub mod store;
pub mod types;
