//! Fills a Hongshu database with generated members and public notes for load tests:
//! `bulk_notes <data folder> <notes> [database url]`. The notes come from the search corpus
//! (mixed Chinese and English); they carry no pictures. Rows go straight into the tables, many
//! per statement, so a million notes take about a minute rather than hours of API calls.

use std::path::PathBuf;

use app::config::{Config, Overrides};
use kernel::Timestamp;
use search::corpus::Corpus;

/// Authors the notes are spread over.
const MEMBERS: i64 = 10_000;
const ROWS_PER_STATEMENT: usize = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bulk_notes <data folder> <notes> [database url]";
    let data_dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let notes: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let overrides = Overrides {
        data_dir: Some(data_dir),
        database_url: args.next(),
        ..Overrides::default()
    };
    let config = Config::load(std::path::Path::new("none.toml"), &overrides)?;
    let state = app::open(config).await?;
    let now = Timestamp::now().as_millis();
    let started = std::time::Instant::now();

    let members: Vec<i64> = (1..=MEMBERS).collect();
    for chunk in members.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO users (id, handle, display_name, bio, password_hash, role, created_at, updated_at) VALUES {}",
            store::values_placeholders(state.db.backend(), chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(*id)
                .bind(format!("member{id}"))
                .bind(format!("Member {id}"))
                .bind("")
                .bind("!") // matches no password: these accounts cannot sign in
                .bind("member")
                .bind(now)
                .bind(now);
        }
        query.execute(state.db.pool()).await?;
    }

    let mut corpus = Corpus::new(42);
    let mut done = 0;
    while done < notes {
        let batch: Vec<_> = (0..ROWS_PER_STATEMENT.min(notes - done))
            .map(|_| corpus.note(now).note)
            .collect();
        let sql = format!(
            "INSERT INTO notes (id, author_id, kind, title, body, place, visibility, draft, like_count, created_at, updated_at) VALUES {}",
            store::values_placeholders(state.db.backend(), batch.len(), 11)
        );
        let mut query = sqlx::query(&sql);
        for note in &batch {
            query = query
                .bind(note.id)
                .bind(note.author_id % MEMBERS + 1)
                .bind("image")
                .bind(note.title.chars().take(20).collect::<String>())
                .bind(&note.body)
                .bind("")
                .bind("public")
                .bind(0_i64)
                .bind(note.engagement as i64)
                .bind(note.created_at_ms)
                .bind(note.created_at_ms);
        }
        query.execute(state.db.pool()).await?;
        done += batch.len();
    }
    println!(
        "{MEMBERS} members and {notes} notes written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    state.close().await;
    Ok(())
}
