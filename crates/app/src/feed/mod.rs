//! The discovery feed: the `feed` engine loaded from the database and kept current by the
//! services, the feed API, and the Explore page.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod subscriber;
pub mod types;
