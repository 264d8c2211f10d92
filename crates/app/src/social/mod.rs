//! The social graph: follows, likes, collects and boards, comments, blocks and mutes, reports,
//! and the notifications they cause.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod subscriber;
pub mod types;
