//! Money: Hongshu's chart of accounts on top of the `ledger` engine, and the finance API.
//! The engine keeps its own tables and does its own storage, so this domain has no `store`.

pub mod api;
pub mod service;
pub mod types;
