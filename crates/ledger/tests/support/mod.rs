//! What the ledger's test suites share: a fresh database and an account factory.

use kernel::Currency;
use ledger::{Account, AccountFlags, Balance};
use store::Db;

/// A fresh, migrated database (SQLite in `dir`, or PostgreSQL when the suite is given one).
pub async fn fresh_db(dir: &std::path::Path) -> Db {
    let db = Db::connect(&store::testing::fresh_database_url(dir).await, 8)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    assert_eq!(db.backend(), store::testing::expected_backend());
    db
}

pub fn account(id: i64, currency: Currency, flags: AccountFlags) -> Account {
    Account {
        id,
        currency,
        code: 1,
        owner: format!("test:{id}"),
        flags,
        balance: Balance::default(),
        created_at: 0,
    }
}
