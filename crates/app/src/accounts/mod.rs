//! Accounts: members, sign-up and sign-in, sessions, personal API tokens, platform roles.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod types;
