//! A steady stream of change-log entries for measuring how far behind the subscribers run:
//! `change_flood <data folder> <rate> <seconds> [database url]` records `rate` entries a second
//! (likes and unlikes of the newest public notes by existing members, 20 to a transaction) into
//! the database of a server that serves the same folder, as its own services would, without
//! HTTP in the way. The subscribers do their whole work on each (search re-reads the note,
//! the feed learns, the note cache forgets, notifications are made and taken back); on
//! PostgreSQL this process also announces its commits, as a node does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use app::changes::types::Change;
use app::config::{Config, Overrides};
use kernel::Id;

const PER_TRANSACTION: u64 = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, rate, seconds, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: change_flood <data folder> <rate> <seconds> [database url]");
    };
    let (rate, seconds): (u64, u64) = (rate.parse()?, seconds.parse()?);
    let overrides = Overrides {
        data_dir: Some(PathBuf::from(data)),
        database_url: rest.first().cloned(),
        ..Default::default()
    };
    let state = app::open(Config::load(Path::new("none.toml"), &overrides)?).await?;
    tokio::spawn(app::changes::service::connect_nodes(state.clone()));
    let ids = |sql: &'static str| {
        let db = state.db.clone();
        async move {
            let ids: Vec<i64> = store::query_scalar(sql).fetch_all(db.pool()).await?;
            anyhow::Ok(ids.into_iter().map(Id::from_i64).collect::<Vec<_>>())
        }
    };
    let notes = ids(
        "SELECT id FROM notes WHERE visibility = 'public' AND draft = 0 ORDER BY id DESC LIMIT 50",
    )
    .await?;
    let members = ids("SELECT id FROM users ORDER BY id LIMIT 200").await?;
    anyhow::ensure!(
        !notes.is_empty() && !members.is_empty(),
        "the database has no notes or members"
    );
    let author = |note: Id| {
        let db = state.db.clone();
        async move {
            let id: i64 = store::query_scalar("SELECT author_id FROM notes WHERE id = $1")
                .bind(note.as_i64())
                .fetch_one(db.pool())
                .await?;
            anyhow::Ok(Id::from_i64(id))
        }
    };
    let mut authors = Vec::new();
    for note in &notes {
        authors.push(author(*note).await?);
    }
    let transactions = rate * seconds / PER_TRANSACTION;
    let every = Duration::from_secs_f64(PER_TRANSACTION as f64 / rate as f64);
    let started = Instant::now();
    for t in 0..transactions {
        tokio::time::sleep_until((started + every * t as u32).into()).await;
        let mut tx = state.db.begin_write().await?;
        for k in 0..PER_TRANSACTION {
            let n = (t * PER_TRANSACTION + k) as usize;
            let pair = n % (notes.len() * members.len());
            let (note, member) = (pair % notes.len(), pair / notes.len());
            let (note, author, member) = (notes[note], authors[note], members[member]);
            let change = if (n / (notes.len() * members.len())).is_multiple_of(2) {
                Change::Liked {
                    member,
                    note,
                    author,
                }
            } else {
                Change::Unliked {
                    member,
                    note,
                    author,
                }
            };
            state.changes.record(&mut tx, change).await?;
        }
        state.changes.commit(tx).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} entries in {elapsed:.1} s ({:.0}/s)",
        transactions * PER_TRANSACTION,
        (transactions * PER_TRANSACTION) as f64 / elapsed
    );
    // Let the announcement of the last commits go out.
    tokio::time::sleep(Duration::from_millis(200)).await;
    state.close().await;
    Ok(())
}
