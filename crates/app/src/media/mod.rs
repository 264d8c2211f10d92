//! Media: uploaded images and videos. Checked by content (never by name), decoded under limits,
//! stripped of metadata by re-encoding, stored content-addressed in an object store, and served
//! with long-lived caching and byte ranges.

pub mod api;
pub mod container;
pub mod process;
pub mod service;
pub mod store;
pub mod types;
