//! Hongshu's ledger: double-entry accounting behind every yuan.
//!
//! Accounts hold balances in minor units of one currency; transfers move an amount from a debit
//! account to a credit account and are never changed once accepted. Two-phase transfers reserve
//! funds (pending) and later post or void them, or expire; linked transfers succeed or fail
//! together; a caller-chosen id makes every submission safe to retry. The design follows
//! TigerBeetle's public reference.
//!
//! [`engine::Ledger`] holds the rules in memory without I/O. [`durable::DurableLedger`] makes
//! them durable: one writer task gathers concurrent submissions into one database transaction
//! (group commit) and answers only after the commit.

pub mod audit;
pub mod durable;
pub mod engine;
mod forward;
pub mod types;
mod writer;

pub use durable::{
    system_clock, Clock, DurableLedger, LedgerError, Role, StoredTransfer, DEFAULT_MAX_BATCH,
};
pub use engine::{AccountError, Journal, Ledger};
pub use types::*;
