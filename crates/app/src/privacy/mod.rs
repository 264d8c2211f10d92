//! Privacy: what PIPL and the GDPR give members. A member downloads everything Hongshu holds
//! about them as one archive, and deletes their account: their personal data erased or
//! anonymised at once, their orders kept for the retention the law asks with the personal
//! fields removed, their notes gone from the feed, search and the note cache.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
pub mod types;
