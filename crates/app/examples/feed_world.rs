//! The feed's synthetic world in a Hongshu database, for the feed benchmarks.
//!
//! `feed_world fill <data folder> <users> <notes> <events> [database url]` writes the world of
//! `feed::world` (members, topics, notes in the last 30 days, follows, likes, impressions and
//! reads) straight into the tables, and personal API tokens for 2,000 random members to
//! `<data folder>/feed-tokens.txt`, one per line, for the HTTP load generator.
//!
//! `feed_world sql <data folder> <pages> [database url]` computes Explore pages for members of
//! the tokens file with one ranking SQL query over the same data — engagement × affinity for
//! the reader's liked topics ÷ age, without notes already shown, blocked or muted authors or
//! the reader's own — and reports its latency: the baseline the engine is measured against.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use app::config::{Config, Overrides};
use app::state::AppState;
use feed::world::{World, WorldSize, TOPICS};
use feed::Signal;
use kernel::{Id, Timestamp};
use rand::seq::SliceRandom;
use rand::SeedableRng;

const ROWS_PER_STATEMENT: usize = 500;
const STATEMENTS_PER_TRANSACTION: usize = 50;
const TOKENS: usize = 2_000;
const TOKENS_FILE: &str = "feed-tokens.txt";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["fill", data, users, notes, events, rest @ ..] => {
            let size = WorldSize {
                users: users.parse()?,
                notes: notes.parse()?,
                events: events.parse()?,
                days: 30,
            };
            let state = open(data, rest.first()).await?;
            fill(&state, Path::new(data), size).await?;
            state.close().await;
        }
        ["sql", data, pages, rest @ ..] => {
            let state = open(data, rest.first()).await?;
            rank_in_sql(&state, Path::new(data), pages.parse()?).await?;
            state.close().await;
        }
        _ => anyhow::bail!(
            "usage: feed_world fill <data folder> <users> <notes> <events> [database url]\n       \
             feed_world sql <data folder> <pages> [database url]"
        ),
    }
    Ok(())
}

async fn open(data: &str, database_url: Option<&&str>) -> anyhow::Result<AppState> {
    let overrides = Overrides {
        data_dir: Some(PathBuf::from(data)),
        database_url: database_url.map(|u| u.to_string()),
        ..Overrides::default()
    };
    let config = Config::load(Path::new("none.toml"), &overrides)?;
    app::open(config).await
}

async fn fill(state: &AppState, data: &Path, size: WorldSize) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Timestamp::now().as_millis();
    let world = World::generate(size, 20_261_122, now, |ms| Id::first_at(ms).as_i64());
    let mut likes = vec![0i64; world.notes.len()];
    let index_of = |id: i64| world.notes.binary_search_by_key(&id, |n| n.id).ok();
    for (_, note, signal, _) in world.events() {
        if let (Signal::Like, Some(i)) = (signal, index_of(note)) {
            likes[i] += 1;
        }
    }

    let topics = TOPICS
        .iter()
        .enumerate()
        .map(|(i, name)| vec![Cell::Int(i as i64 + 1), Cell::text(name), Cell::Int(now)]);
    insert(state, "topics (id, name, created_at)", topics).await?;
    let users = world.members.iter().map(|m| {
        vec![
            Cell::Int(m.id),
            Cell::Text(format!("member{}", m.id)),
            Cell::Text(format!("Member {}", m.id)),
            Cell::text(""),
            Cell::text("!"), // matches no password: these accounts cannot sign in
            Cell::text("member"),
            Cell::Int(now),
            Cell::Int(now),
        ]
    });
    insert(
        state,
        "users (id, handle, display_name, bio, password_hash, role, created_at, updated_at)",
        users,
    )
    .await?;
    let notes = world.notes.iter().zip(&likes).map(|(note, likes)| {
        let topic = TOPICS[note.topics[0] as usize - 1];
        vec![
            Cell::Int(note.id),
            Cell::Int(note.author),
            Cell::text("image"),
            Cell::Text(format!("{topic} find")),
            Cell::Text(format!("Something good about {topic} #{topic}")),
            Cell::text(""),
            Cell::text("public"),
            Cell::Int(0),
            Cell::Int(*likes),
            Cell::Int(note.created_ms),
            Cell::Int(note.created_ms),
        ]
    });
    insert(state, "notes (id, author_id, kind, title, body, place, visibility, draft, like_count, created_at, updated_at)", notes).await?;
    let note_topics = world.notes.iter().flat_map(|note| {
        note.topics.iter().enumerate().map(|(position, topic)| {
            vec![
                Cell::Int(note.id),
                Cell::Int(*topic),
                Cell::Int(position as i64),
            ]
        })
    });
    insert(
        state,
        "note_topics (note_id, topic_id, position)",
        note_topics,
    )
    .await?;
    let follows = world
        .follows
        .iter()
        .map(|(reader, author)| vec![Cell::Int(*reader), Cell::Int(*author), Cell::Int(now)]);
    insert(
        state,
        "follows (follower_id, followee_id, created_at)",
        follows,
    )
    .await?;
    println!(
        "{} members, {} notes, {} follows written in {:.1} s",
        size.users,
        size.notes,
        world.follows.len(),
        started.elapsed().as_secs_f64()
    );

    let liked = world.events().filter(|e| e.2 == Signal::Like);
    let liked =
        liked.map(|(reader, note, _, at)| vec![Cell::Int(reader), Cell::Int(note), Cell::Int(at)]);
    let like_rows = insert(state, "likes (user_id, note_id, created_at)", liked).await?;
    let reported = world.events().filter_map(|(reader, note, signal, at)| {
        let kind = match signal {
            Signal::Impression => "impression",
            Signal::Read => "read",
            _ => return None,
        };
        Some(vec![
            Cell::Int(reader),
            Cell::Int(note),
            Cell::text(kind),
            Cell::Int(at),
        ])
    });
    let event_rows = insert(state, "feed_events (user_id, note_id, kind, at)", reported).await?;
    println!(
        "{like_rows} likes and {event_rows} impressions and reads written; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    write_tokens(state, data, &world).await
}

/// Personal API tokens for random members, so a load generator can act as them.
async fn write_tokens(state: &AppState, data: &Path, world: &World) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let members: Vec<i64> = world
        .members
        .choose_multiple(&mut rng, TOKENS)
        .map(|m| m.id)
        .collect();
    let now = Timestamp::now().as_millis();
    let mut secrets = String::new();
    let mut rows = Vec::new();
    for member in members {
        let secret = format!(
            "hs_feedbench{member}x{}",
            app::accounts::service::random_secret()
        );
        rows.push(vec![
            Cell::Int(state.ids.next_id().as_i64()),
            Cell::Int(member),
            Cell::text("personal"),
            Cell::text("feed benchmark"),
            Cell::Text(app::accounts::service::hash_token(&secret)),
            Cell::Int(now),
        ]);
        secrets.push_str(&secret);
        secrets.push('\n');
    }
    insert(
        state,
        "auth_tokens (id, user_id, kind, name, token_hash, created_at)",
        rows.into_iter(),
    )
    .await?;
    std::fs::write(data.join(TOKENS_FILE), secrets)?;
    Ok(())
}

enum Cell {
    Int(i64),
    Text(String),
}

impl Cell {
    fn text(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }
}

/// Inserts rows many per statement and many statements per transaction; a row already there
/// (a second like of one note by one member) is skipped. Returns the rows written.
async fn insert(
    state: &AppState,
    into: &str,
    rows: impl Iterator<Item = Vec<Cell>>,
) -> anyhow::Result<u64> {
    let mut rows = rows.peekable();
    let mut written = 0;
    while rows.peek().is_some() {
        let mut tx = state.db.pool().begin().await?;
        for _ in 0..STATEMENTS_PER_TRANSACTION {
            let batch: Vec<Vec<Cell>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            let Some(columns) = batch.first().map(Vec::len) else {
                break;
            };
            let sql = format!(
                "INSERT INTO {into} VALUES {} ON CONFLICT DO NOTHING",
                store::values_placeholders(state.db.backend(), batch.len(), columns)
            );
            let mut query = sqlx::query(&sql);
            for cell in batch.into_iter().flatten() {
                query = match cell {
                    Cell::Int(value) => query.bind(value),
                    Cell::Text(value) => query.bind(value),
                };
            }
            written += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
    }
    Ok(written)
}

/// One Explore page for `reader`, ranked by SQL.
const RANKING: &str = "\
SELECT n.id FROM notes n
JOIN note_topics nt ON nt.note_id = n.id
JOIN (SELECT t.topic_id, COUNT(*) AS weight FROM likes l JOIN note_topics t ON t.note_id = l.note_id
      WHERE l.user_id = $1 GROUP BY t.topic_id) a ON a.topic_id = nt.topic_id
WHERE n.visibility = 'public' AND n.draft = 0 AND n.created_at >= $2 AND n.author_id <> $1
  AND NOT EXISTS (SELECT 1 FROM feed_events e WHERE e.user_id = $1 AND e.note_id = n.id)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = n.author_id)
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = $1 AND m.muted_id = n.author_id)
GROUP BY n.id, n.like_count, n.created_at
ORDER BY (n.like_count + 1.0) * (1.0 + SUM(a.weight)) / (1.0 + ($3 - n.created_at) / 259200000.0) DESC
LIMIT 20";

async fn rank_in_sql(state: &AppState, data: &Path, pages: usize) -> anyhow::Result<()> {
    // Without an index from reader to the notes they were shown, every candidate would scan
    // the whole event table; the engine keeps this in memory, so the baseline gets its index.
    let started = Instant::now();
    sqlx::query(
        "CREATE INDEX IF NOT EXISTS feed_events_by_reader_bench ON feed_events (user_id, note_id)",
    )
    .execute(state.db.pool())
    .await?;
    println!(
        "index from reader to shown notes built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let readers: Vec<i64> = std::fs::read_to_string(data.join(TOKENS_FILE))?
        .lines()
        .filter_map(|l| {
            l.strip_prefix("hs_feedbench")?
                .split('x')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let now = Timestamp::now().as_millis();
    let since = now - 30 * 86_400_000;
    let mut took: Vec<Duration> = Vec::with_capacity(pages);
    let mut cards = 0;
    for reader in readers.iter().cycle().take(pages) {
        let started = Instant::now();
        let page: Vec<i64> = sqlx::query_scalar(RANKING)
            .bind(*reader)
            .bind(since)
            .bind(now)
            .fetch_all(state.db.pool())
            .await?;
        took.push(started.elapsed());
        cards += page.len();
    }
    took.sort_unstable();
    let at = |p: f64| {
        let i = ((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1;
        took[i].as_secs_f64() * 1000.0
    };
    println!(
        "ranking SQL: {pages} pages ({:.1} cards each), p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        cards as f64 / pages.max(1) as f64,
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
