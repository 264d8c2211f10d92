//! Stopping the ledger finishes queued work and lets the database close.

mod support;

use kernel::Currency;
use ledger::{AccountFlags, DurableLedger, LedgerError};

#[tokio::test]
async fn a_stopped_ledger_keeps_queued_work_releases_its_connection_and_refuses_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::fresh_db(dir.path()).await;
    let ledger = DurableLedger::open(db.clone(), 100).await.unwrap();
    let queued = {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let account = support::account(1, Currency::CNY, AccountFlags::default());
            ledger.open_accounts(vec![account]).await
        })
    };
    tokio::task::yield_now().await;
    ledger.stop().await;
    assert!(
        queued.await.unwrap().is_ok(),
        "work sent before the stop is done"
    );
    assert!(ledger.account(1).await.unwrap().is_some());
    let late = ledger
        .open_accounts(vec![support::account(
            2,
            Currency::CNY,
            AccountFlags::default(),
        )])
        .await;
    assert!(matches!(late, Err(LedgerError::Stopped)), "{late:?}");
    // Would wait forever if the writer still held its connection.
    db.close().await;
}
