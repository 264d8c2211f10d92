//! Kill -9 at random moments: a worker process submits linked batches from eight tasks at once
//! and is killed with SIGKILL, again and again. Afterwards every batch it acknowledged is in the
//! database, every batch it was told was refused is not, no batch is there in part, and the
//! ledger's invariants hold. The worker is `examples/crash_worker.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, BufReader};

const KILLS: usize = 6;

fn worker_path() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    deps.parent().unwrap().join("examples").join("crash_worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_survive_sigkill_and_none_is_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for kill in 0..KILLS {
        let mut worker = tokio::process::Command::new(worker_path())
            .arg(&url)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "examples/crash_worker is built: run `cargo test -p ledger`, which builds examples",
            );
        let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
        let lifetime = Duration::from_millis(rng.gen_range(300..1_500));
        let deadline = tokio::time::Instant::now() + lifetime;
        while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, lines.next_line()).await {
            let mut words = line.split(' ');
            let verdict = words.next().unwrap().to_owned();
            let ids: Vec<i64> = words.map(|w| w.parse().unwrap()).collect();
            match verdict.as_str() {
                "ack" => acked.push(ids),
                _ => refused.push(ids),
            }
        }
        worker.start_kill().unwrap(); // SIGKILL
        let status = worker.wait().await.unwrap();
        assert!(
            !status.success(),
            "kill {kill}: the worker was killed, not finished"
        );
    }
    println!(
        "{} batches acknowledged, {} refused, over {KILLS} kills",
        acked.len(),
        refused.len()
    );
    assert!(
        acked.len() > 50,
        "the worker made progress between kills ({} batches)",
        acked.len()
    );

    let db = store::Db::connect(&url, 4).await.unwrap();
    let present: HashMap<i64, String> = sqlx::query("SELECT id, memo FROM ledger_transfers")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get::<i64, _>(0), row.get::<String, _>(1)))
        .collect();
    for batch in &acked {
        assert!(
            batch.iter().all(|id| present.contains_key(id)),
            "an acknowledged batch is missing: {batch:?}"
        );
    }
    for batch in &refused {
        assert!(
            batch.iter().all(|id| !present.contains_key(id)),
            "a refused batch left transfers: {batch:?}"
        );
    }
    let mut per_batch: HashMap<&str, usize> = HashMap::new();
    for memo in present.values() {
        *per_batch.entry(memo.as_str()).or_default() += 1;
    }
    for (memo, count) in per_batch {
        let size: usize = memo.rsplit(':').next().unwrap().parse().unwrap();
        assert_eq!(count, size, "batch {memo} is in the database in part");
    }
    assert_eq!(
        ledger::audit::violations(&db).await.unwrap(),
        Vec::<String>::new()
    );
    // And the ledger still opens from what the kills left behind.
    ledger::DurableLedger::open(db, 100).await.unwrap();
}
