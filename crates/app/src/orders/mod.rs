//! Buying: saved addresses, the cart, checkout, and orders from payment to completion.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod types;
