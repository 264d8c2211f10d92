//! The worker of the payments crash test (`tests/api/payment_crash.rs`):
//! `payment_crash_worker <data folder> <database url>` serves Hongshu (so the order task runs:
//! overdue orders are cancelled, unneeded payments given back) and meanwhile applies a success
//! notification for every payment in the database, eight at a time in a random order and
//! round after round, as providers retry, until it is killed. It prints `applied <id>` for each
//! notification applied.

use std::path::{Path, PathBuf};

use app::config::{Config, Overrides};
use app::payments::service::{apply, Notice};
use rand::seq::SliceRandom;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, url] = args.as_slice() else {
        anyhow::bail!("usage: payment_crash_worker <data folder> <database url>");
    };
    let overrides = Overrides {
        data_dir: Some(PathBuf::from(data)),
        database_url: Some(url.clone()),
        ..Overrides::default()
    };
    let state = app::open(Config::load(Path::new("none.toml"), &overrides)?).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    tokio::spawn(app::run(listener, state.clone(), std::future::pending()));
    let mut payments: Vec<(i64, i64)> =
        store::query_as("SELECT id, amount FROM payments ORDER BY id")
            .fetch_all(state.db.pool())
            .await?;
    let mut rng = rand::thread_rng();
    loop {
        payments.shuffle(&mut rng);
        for batch in payments.chunks(8) {
            let applied = batch.iter().map(|&(id, amount)| {
                let state = &state;
                async move {
                    let provider_ref = format!("CRASH{id}");
                    let notice = Notice {
                        provider: app::payments::types::Provider::Sandbox,
                        payment: kernel::Id::from_i64(id),
                        succeeded: true,
                        amount,
                        currency: "CNY",
                        provider_ref: &provider_ref,
                    };
                    (id, apply(state, &notice).await)
                }
            });
            for (id, outcome) in futures_util::future::join_all(applied).await {
                if outcome.is_ok() {
                    println!("applied {id}");
                }
            }
            app::jobs::move_overdue(&state).await?;
        }
    }
}
