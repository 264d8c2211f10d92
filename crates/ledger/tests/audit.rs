//! The audit finds what it is meant to find: a ledger tampered with behind its back.

mod support;

use kernel::Currency;
use ledger::{AccountFlags, DurableLedger, Outcome, Transfer, TransferKind};

#[tokio::test]
async fn tampering_with_balances_or_transfers_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::fresh_db(dir.path()).await;
    let ledger = DurableLedger::open(db.clone(), 100).await.unwrap();
    let wallet = AccountFlags {
        debits_must_not_exceed_credits: true,
        ..AccountFlags::default()
    };
    let accounts = vec![
        support::account(1, Currency::CNY, AccountFlags::default()),
        support::account(2, Currency::CNY, wallet),
    ];
    ledger.open_accounts(accounts).await.unwrap();
    let pending = Transfer {
        id: 10,
        debit_account_id: 1,
        credit_account_id: 2,
        amount: 500,
        currency: Currency::CNY,
        code: 1,
        kind: TransferKind::Pending,
        linked: false,
        pending_id: None,
        timeout_seconds: 0,
        memo: String::new(),
    };
    let post = Transfer {
        id: 11,
        kind: TransferKind::PostPending,
        pending_id: Some(10),
        ..pending.clone()
    };
    let results = ledger.submit(vec![pending, post]).await.unwrap();
    assert_eq!(results, [Ok(Outcome::Created), Ok(Outcome::Created)]);
    assert!(ledger::audit::violations(&db).await.unwrap().is_empty());

    sqlx::query("UPDATE ledger_accounts SET debits_posted = 900 WHERE id = 2")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, code, flags, \
         pending_id, timeout_seconds, memo, created_at) VALUES (12, 1, 2, 600, 'CNY', 1, 4, 10, 0, '', 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let found = ledger::audit::violations(&db).await.unwrap().join("\n");
    for expected in [
        "CNY does not balance",
        "crosses its flags: account 2",
        "balance differs from its transfers: account 2",
        "resolved more than once: pending transfer 10",
        "resolves beyond its pending amount: transfer 12",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
}
