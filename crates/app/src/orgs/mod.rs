//! Organisations: brands and their staff. An organisation is what runs a store, ad campaigns and
//! live rooms; administrators mark the real ones verified (the official-account badge).

pub mod api;
pub mod service;
pub mod store;
pub mod types;
