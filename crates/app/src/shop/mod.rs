//! The mall's catalogue: stores run by organisations, their products and SKUs.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod types;
