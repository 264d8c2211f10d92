//! Money: Hongshu's chart of accounts on top of the `ledger` engine, the postings of every
//! order's money, and the finance API. The engine keeps its own tables and does its own
//! storage; this domain's `store` keeps only which transfer each step of an order's money is.

pub mod api;
pub mod postings;
pub mod service;
pub mod store;
pub mod types;
