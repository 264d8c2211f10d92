//! Integration tests: each test starts Hongshu on port 0 against a fresh database (SQLite by
//! default, PostgreSQL when `HONGSHU_TEST_DATABASE_URL` is set) and speaks HTTP to it.

mod accounts;
mod changes;
mod demo;
mod errors;
mod feed;
mod hardening;
mod helpers;
mod languages;
mod ledger;
mod mall;
mod media;
mod moving;
mod note_pages;
mod notes;
mod ops;
mod orgs;
mod pages;
mod payment_crash;
mod payments;
mod privacy;
mod search;
mod social;
