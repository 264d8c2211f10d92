//! Notes: photo and video posts with a title, a body with #topics and @mentions, and a place.

pub mod api;
pub mod cache;
pub mod pages;
pub mod service;
pub mod store;
pub mod subscriber;
pub mod types;
