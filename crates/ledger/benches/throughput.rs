//! Ledger throughput, durable: `cargo bench -p ledger`.
//!
//! Side by side on the same database engine, in the same run:
//! - group commit: many concurrent callers submit batches; the writer commits whatever waits
//!   in one transaction (SQLite with `synchronous = FULL`: one fsync per commit);
//! - group commit with single-transfer callers: every caller sends one transfer at a time;
//! - the naive way: one transaction per transfer that reads both balances, updates them and
//!   inserts the transfer.
//!
//! On PostgreSQL also: the group-commit runs again with the callers on a second node (a second
//! pool and ledger on the same database) that forwards to the writer through the database, and
//! the failover: how long after the writer's connection is cut a transfer sent through the
//! other node is acknowledged, five times.
//!
//! SQLite always; PostgreSQL too when `HONGSHU_BENCH_DATABASE_URL` names a server (a role that
//! may create databases). Sizes can be changed with `LEDGER_BENCH_TRANSFERS`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kernel::Currency;
use ledger::{
    Account, AccountFlags, Balance, DurableLedger, Outcome, Role, Transfer, TransferKind,
    DEFAULT_MAX_BATCH,
};
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Row};
use store::{Backend, Db};

const ACCOUNTS: i64 = 10_000;

struct Run {
    label: String,
    transfers: usize,
    elapsed: Duration,
    /// How long each database commit took.
    commits: Vec<Duration>,
    /// How long each caller waited for its answer.
    calls: Vec<Duration>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.transfers as f64 / self.elapsed.as_secs_f64()
    }
}

fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

fn main() {
    let total: usize = std::env::var("LEDGER_BENCH_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut servers = vec![("SQLite".to_owned(), None)];
        if let Ok(server) = std::env::var("HONGSHU_BENCH_DATABASE_URL") {
            servers.push(("PostgreSQL".to_owned(), Some(server)));
        }
        println!("| database | method | transfers | seconds | transfers/s | commits | transfers/commit | commit p50 | commit p99 | call p99 |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (name, server) in servers {
            let server = server.as_deref();
            let batched = run_group_commit(&database(dir.path(), server).await.into(), total, 64, 100).await;
            let singles = run_group_commit(&database(dir.path(), server).await.into(), total / 4, 512, 1).await;
            let naive = run_naive(&database(dir.path(), server).await.0, (total / 40).max(1_000)).await;
            let mut runs = vec![batched, singles, naive];
            if server.is_some() {
                runs.push(run_group_commit(&with_follower(database(dir.path(), server).await), total, 64, 100).await);
                runs.push(run_group_commit(&with_follower(database(dir.path(), server).await), total / 4, 512, 1).await);
            }
            for run in &runs {
                println!(
                    "| {name} | {} | {} | {:.2} | {:.0} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms |",
                    run.label,
                    run.transfers,
                    run.elapsed.as_secs_f64(),
                    run.per_second(),
                    run.commits.len(),
                    run.transfers as f64 / run.commits.len() as f64,
                    percentile_ms(&run.commits, 0.5),
                    percentile_ms(&run.commits, 0.99),
                    percentile_ms(&run.calls, 0.99),
                );
            }
            println!(
                "| {name} | ratio | | | group commit {:.0}× naive; single-transfer callers {:.0}× naive | | |",
                runs[0].per_second() / runs[2].per_second(),
                runs[1].per_second() / runs[2].per_second()
            );
            if server.is_some() {
                println!(
                    "| {name} | ratio | | | through a follower: batches {:.2}× the writer's, single transfers {:.2}× | | |",
                    runs[3].per_second() / runs[0].per_second(),
                    runs[4].per_second() / runs[1].per_second()
                );
                let (db, url) = database(dir.path(), server).await;
                let took: Vec<String> = measure_failover(&db, &url, 5)
                    .await
                    .iter()
                    .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1e3))
                    .collect();
                println!("| {name} | failover | | | first transfer acknowledged after the writer was cut off: {} | | |", took.join(", "));
            }
        }
    });
}

/// Where a run sends its transfers: the database, and the URL of a second node's pool when the
/// callers are on a node that does not write.
struct Target {
    db: Db,
    follower: Option<String>,
}

impl From<(Db, String)> for Target {
    fn from((db, _): (Db, String)) -> Target {
        Target { db, follower: None }
    }
}

fn with_follower((db, url): (Db, String)) -> Target {
    Target {
        db,
        follower: Some(url),
    }
}

async fn wait_until_leading(ledger: &DurableLedger) {
    while ledger.role() != Role::Leading {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Cuts the writer's connection off (as when its node dies) `rounds` times, each time timing
/// how long until a transfer sent through the other node is acknowledged.
async fn measure_failover(db: &Db, url: &str, rounds: usize) -> Vec<Duration> {
    let first = DurableLedger::open(db.clone(), DEFAULT_MAX_BATCH)
        .await
        .unwrap();
    wait_until_leading(&first).await;
    let second_db = Db::connect(url, 4).await.unwrap();
    let second = DurableLedger::open(second_db, DEFAULT_MAX_BATCH)
        .await
        .unwrap();
    let nodes = [first, second];
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut took = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let writer = nodes
            .iter()
            .position(|n| n.role() == Role::Leading)
            .unwrap();
        // Cuts at different moments of the other node's 250 ms retry.
        tokio::time::sleep(Duration::from_millis(500 + 53 * round as u64)).await;
        let cut = Instant::now();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
             AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let transfer = random_transfer(&mut rng, 1 + round as i64);
        let results = nodes[1 - writer].submit(vec![transfer]).await.unwrap();
        took.push(cut.elapsed());
        assert_eq!(results, vec![Ok(Outcome::Created)]);
        // The cut-off writer finds out at its next check; then one node writes (either may
        // have taken the lease) and the other follows.
        while nodes.iter().filter(|n| n.role() == Role::Following).count() != 1
            || nodes.iter().filter(|n| n.role() == Role::Leading).count() != 1
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for node in &nodes {
        node.stop().await;
    }
    took
}

/// A fresh, migrated database with the benchmark's accounts opened, and its URL.
async fn database(dir: &std::path::Path, server: Option<&str>) -> (Db, String) {
    static COUNTER: AtomicI64 = AtomicI64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let url = match server {
        None => store::sqlite_url(&dir.join(format!("bench{n}.db"))),
        Some(server) => {
            sqlx::any::install_default_drivers();
            let name = format!("hongshu_bench_{}_{n}", std::process::id());
            let mut admin = sqlx::AnyConnection::connect(server).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            format!("{}/{name}", server.rsplit_once('/').unwrap().0)
        }
    };
    let db = Db::connect(&url, 16).await.unwrap();
    db.migrate().await.unwrap();
    let ledger = DurableLedger::open(db.clone(), DEFAULT_MAX_BATCH)
        .await
        .unwrap();
    let accounts: Vec<Account> = (1..=ACCOUNTS)
        .map(|id| Account {
            id,
            currency: Currency::CNY,
            code: 1,
            owner: format!("bench:{id}"),
            flags: AccountFlags::default(),
            balance: Balance::default(),
            created_at: 0,
        })
        .collect();
    for chunk in accounts.chunks(5_000) {
        ledger.open_accounts(chunk.to_vec()).await.unwrap();
    }
    // Its lease passes to the run's own writer.
    ledger.stop().await;
    (db, url)
}

fn random_transfer(rng: &mut impl Rng, id: i64) -> Transfer {
    let debit = rng.gen_range(1..=ACCOUNTS);
    let credit = (debit + rng.gen_range(1..ACCOUNTS) - 1) % ACCOUNTS + 1;
    Transfer {
        id,
        debit_account_id: debit,
        credit_account_id: credit,
        amount: rng.gen_range(1..=10_000),
        currency: Currency::CNY,
        code: 1,
        kind: TransferKind::Posted,
        linked: false,
        pending_id: None,
        timeout_seconds: 0,
        memo: String::new(),
    }
}

/// `clients` tasks each submit batches of `batch` transfers until `total` are done, through the
/// writer or through a node that forwards to it.
async fn run_group_commit(target: &Target, total: usize, clients: usize, batch: usize) -> Run {
    let db = &target.db;
    let writer = DurableLedger::open(db.clone(), DEFAULT_MAX_BATCH)
        .await
        .unwrap();
    wait_until_leading(&writer).await;
    let ledger = match &target.follower {
        None => writer.clone(),
        Some(url) => {
            let other = Db::connect(url, 16).await.unwrap();
            DurableLedger::open(other, DEFAULT_MAX_BATCH).await.unwrap()
        }
    };
    let next_id = Arc::new(AtomicI64::new(1));
    let per_client = total / clients / batch;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (ledger, next_id) = (ledger.clone(), next_id.clone());
        tasks.spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let first = next_id.fetch_add(batch as i64, Ordering::Relaxed);
                let transfers = (0..batch as i64)
                    .map(|i| random_transfer(&mut rng, first + i))
                    .collect();
                let sent = Instant::now();
                let results = ledger.submit(transfers).await.unwrap();
                latencies.push(sent.elapsed());
                assert!(results.iter().all(|r| *r == Ok(Outcome::Created)));
            }
            latencies
        });
    }
    let calls: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    let commits = writer.take_commit_times();
    let mut label = if batch == 1 {
        format!("group commit, {clients} callers × 1 transfer")
    } else {
        format!("group commit, {clients} callers × {batch}-transfer batches")
    };
    if target.follower.is_some() {
        label.push_str(", through a follower");
        ledger.stop().await;
    }
    writer.stop().await;
    assert!(ledger::audit::violations(db).await.unwrap().is_empty());
    Run {
        label,
        transfers: per_client * clients * batch,
        elapsed,
        commits,
        calls,
    }
}

/// One transaction per transfer: read both balances, write both, insert the transfer.
async fn run_naive(db: &Db, total: usize) -> Run {
    let mut conn = db.pool().acquire().await.unwrap();
    if db.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut latencies = Vec::with_capacity(total);
    let started = Instant::now();
    for id in 1..=total as i64 {
        let t = random_transfer(&mut rng, id);
        let sent = Instant::now();
        let mut tx = match db.backend() {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await.unwrap(),
            Backend::Postgres => conn.begin().await.unwrap(),
        };
        let read = "SELECT debits_posted, credits_posted FROM ledger_accounts WHERE id = $1";
        let debit = sqlx::query(read)
            .bind(t.debit_account_id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let credit = sqlx::query(read)
            .bind(t.credit_account_id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let (debits, credits): (i64, i64) = (debit.get(0), credit.get(1));
        for (sql, account, value) in [
            (
                "UPDATE ledger_accounts SET debits_posted = $1 WHERE id = $2",
                t.debit_account_id,
                debits + t.amount,
            ),
            (
                "UPDATE ledger_accounts SET credits_posted = $1 WHERE id = $2",
                t.credit_account_id,
                credits + t.amount,
            ),
        ] {
            sqlx::query(sql)
                .bind(value)
                .bind(account)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, code, flags, \
             pending_id, timeout_seconds, memo, created_at) VALUES ($1, $2, $3, $4, 'CNY', 1, 0, NULL, 0, '', $5)",
        )
        .bind(t.id)
        .bind(t.debit_account_id)
        .bind(t.credit_account_id)
        .bind(t.amount)
        .bind(kernel::Timestamp::now().as_millis())
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        latencies.push(sent.elapsed());
    }
    let elapsed = started.elapsed();
    assert!(ledger::audit::violations(db).await.unwrap().is_empty());
    Run {
        label: "naive, one transaction per transfer".into(),
        transfers: total,
        elapsed,
        commits: latencies.clone(),
        calls: latencies,
    }
}
