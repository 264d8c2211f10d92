//! Several nodes on one database: one writes the ledger (the holder of its lease), the others
//! forward to it; when the writer's connection dies another node takes over.

mod support;

use std::time::Duration;

use kernel::Currency;
use ledger::{AccountFlags, DurableLedger, Outcome, Role, Transfer, TransferKind};
use store::lease::Lease;
use store::{Backend, Db};

fn transfer(id: i64, debit: i64, credit: i64, amount: i64) -> Transfer {
    Transfer {
        id,
        debit_account_id: debit,
        credit_account_id: credit,
        amount,
        currency: Currency::CNY,
        code: 1,
        kind: TransferKind::Posted,
        linked: false,
        pending_id: None,
        timeout_seconds: 0,
        memo: String::new(),
    }
}

/// A second handle on the same database, as another node would open it.
async fn another_node(db: &Db, url: &str) -> Db {
    let other = Db::connect(url, 8).await.unwrap();
    assert_eq!(other.backend(), db.backend());
    other
}

async fn wait_for_role(ledger: &DurableLedger, role: Role) {
    for _ in 0..200 {
        if ledger.role() == role {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the ledger never became {role:?}; it is {:?}",
        ledger.role()
    );
}

#[tokio::test]
async fn on_sqlite_the_one_node_writes() {
    if store::testing::expected_backend() != Backend::Sqlite {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = support::fresh_db(dir.path()).await;
    let ledger = DurableLedger::open(db.clone(), 100).await.unwrap();
    let opened = ledger
        .open_accounts(vec![support::account(
            1,
            Currency::CNY,
            AccountFlags::default(),
        )])
        .await
        .unwrap();
    assert_eq!(opened, vec![Ok(Outcome::Created)]);
    assert_eq!(ledger.role(), Role::Leading);
    ledger.stop().await;
}

#[tokio::test]
async fn a_lease_has_one_holder_until_its_connection_ends() {
    if store::testing::expected_backend() != Backend::Postgres {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let one = Db::connect(&url, 4).await.unwrap();
    let two = another_node(&one, &url).await;
    let held = Lease::new(&one, "chores").try_acquire().await.unwrap();
    assert!(held.is_some(), "a free lease is granted");
    assert!(
        Lease::new(&two, "chores")
            .try_acquire()
            .await
            .unwrap()
            .is_none(),
        "a held lease is refused to another node"
    );
    assert!(
        Lease::new(&two, "ledger")
            .try_acquire()
            .await
            .unwrap()
            .is_some(),
        "leases of other names are free"
    );
    held.unwrap().release().await;
    assert!(
        Lease::new(&two, "chores")
            .try_acquire()
            .await
            .unwrap()
            .is_some(),
        "a released lease passes on"
    );
}

#[tokio::test]
async fn a_follower_forwards_and_takes_over_when_the_writer_is_cut_off() {
    if store::testing::expected_backend() != Backend::Postgres {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let first_db = Db::connect(&url, 8).await.unwrap();
    first_db.migrate().await.unwrap();
    let first = DurableLedger::open(first_db.clone(), 100).await.unwrap();
    wait_for_role(&first, Role::Leading).await;
    let second_db = another_node(&first_db, &url).await;
    let second = DurableLedger::open(second_db.clone(), 100).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(second.role(), Role::Following, "one writer at a time");

    let accounts = (1..=2)
        .map(|id| support::account(id, Currency::CNY, AccountFlags::default()))
        .collect();
    let opened = second.open_accounts(accounts).await.unwrap();
    assert_eq!(
        opened,
        vec![Ok(Outcome::Created); 2],
        "forwarded to the writer"
    );
    let moved = second.submit(vec![transfer(10, 1, 2, 5)]).await.unwrap();
    assert_eq!(moved, vec![Ok(Outcome::Created)]);
    let again = second.submit(vec![transfer(10, 1, 2, 5)]).await.unwrap();
    assert_eq!(
        again,
        vec![Ok(Outcome::AlreadyExists)],
        "a retry moves nothing"
    );

    // The writer's connection dies, as when its node is killed: its lease passes on.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted AND database = \
         (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .execute(second_db.pool())
    .await
    .unwrap();
    wait_for_role(&second, Role::Leading).await;
    let after = second.submit(vec![transfer(11, 1, 2, 7)]).await.unwrap();
    assert_eq!(after, vec![Ok(Outcome::Created)], "the new writer writes");
    // The old writer learns it lost the lease and forwards from now on.
    let from_first = first.submit(vec![transfer(12, 1, 2, 1)]).await.unwrap();
    assert_eq!(from_first, vec![Ok(Outcome::Created)]);
    assert_eq!(first.role(), Role::Following);

    let credited = second.account(2).await.unwrap().unwrap().balance;
    assert_eq!(
        credited.credits_posted,
        5 + 7 + 1,
        "each transfer counted once"
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_requests")
        .fetch_one(second_db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "answered requests are removed");
    first.stop().await;
    second.stop().await;
}
