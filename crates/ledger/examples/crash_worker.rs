//! The process that `tests/crash.rs` kills. It opens the ledger in the database named by its
//! argument and submits linked batches from several tasks at once, forever, printing one line
//! per answered batch: `ack ID…` when the whole chain was committed, `refused ID…` when it was
//! refused (so none of it may exist). Lines are flushed before the next batch starts.

use std::io::Write;
use std::sync::Arc;

use kernel::{Currency, IdGenerator};
use ledger::{
    Account, AccountFlags, Balance, DurableLedger, Outcome, Transfer, TransferKind,
    DEFAULT_MAX_BATCH,
};
use rand::{Rng, SeedableRng};

pub const ACCOUNTS: i64 = 20;

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: crash_worker DATABASE_URL");
    let db = store::Db::connect(&url, 8).await.expect("database opens");
    db.migrate().await.expect("migrations apply");
    let ledger = DurableLedger::open(db, DEFAULT_MAX_BATCH)
        .await
        .expect("ledger loads");
    let accounts = (1..=ACCOUNTS)
        .map(|id| Account {
            id,
            currency: Currency::CNY,
            code: 1,
            owner: format!("crash:{id}"),
            // Odd accounts are wallets, so that some chains are refused for want of funds.
            flags: AccountFlags {
                debits_must_not_exceed_credits: id % 2 == 1,
                credits_must_not_exceed_debits: false,
            },
            balance: Balance::default(),
            created_at: 0,
        })
        .collect();
    ledger.open_accounts(accounts).await.expect("accounts open");
    let ids = Arc::new(IdGenerator::new((std::process::id() % 1024) as u16));
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..8u64 {
        let (ledger, ids, stdout) = (ledger.clone(), ids.clone(), stdout.clone());
        tasks.spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(std::process::id() as u64 * 31 + task);
            loop {
                let chain = chain(&mut rng, &ids);
                let results = ledger
                    .submit(chain.clone())
                    .await
                    .expect("the ledger answers");
                let verdict = if results.iter().all(|r| *r == Ok(Outcome::Created)) {
                    "ack"
                } else {
                    "refused"
                };
                let line: Vec<String> = chain.iter().map(|t| t.id.to_string()).collect();
                let mut out = stdout.lock().unwrap();
                writeln!(out, "{verdict} {}", line.join(" ")).unwrap();
                out.flush().unwrap();
            }
        });
    }
    tasks.join_next().await;
}

/// 2–6 linked transfers, one of them a pending transfer posted in the same chain.
fn chain(rng: &mut impl Rng, ids: &IdGenerator) -> Vec<Transfer> {
    let length = rng.gen_range(2..=6);
    let mut chain: Vec<Transfer> = (0..length)
        .map(|_| {
            let debit = rng.gen_range(1..=ACCOUNTS);
            let credit = (debit + rng.gen_range(1..ACCOUNTS) - 1) % ACCOUNTS + 1;
            Transfer {
                id: ids.next_id().as_i64(),
                debit_account_id: debit,
                credit_account_id: credit,
                amount: rng.gen_range(1..=500),
                currency: Currency::CNY,
                code: 1,
                kind: TransferKind::Posted,
                linked: true,
                pending_id: None,
                timeout_seconds: 0,
                memo: String::new(),
            }
        })
        .collect();
    chain[0].kind = TransferKind::Pending;
    let post = Transfer {
        id: ids.next_id().as_i64(),
        kind: TransferKind::PostPending,
        pending_id: Some(chain[0].id),
        amount: chain[0].amount / 2 + 1,
        ..chain[0].clone()
    };
    chain.push(post);
    let batch = format!("batch:{}:{}", chain[0].id, chain.len());
    for t in &mut chain {
        t.memo = batch.clone();
    }
    chain.last_mut().expect("never empty").linked = false;
    chain
}
