//! The SQL the feed needs: everything to rebuild the engine, and the events it records.

use feed::{NoteInfo, Signal};
use futures_util::TryStreamExt;
use kernel::Id;
use store::{query, query_as, query_scalar, Backend, Db, Tx};

use super::types::EventKind;

use crate::notes::store::PUBLISHED;

/// Everything the engine is built from but the history of signals (see [`send_signals`]).
pub struct Snapshot {
    pub notes: Vec<NoteInfo>,
    pub topic_names: Vec<(i64, String)>,
    pub follows: Vec<(i64, i64)>,
    /// (reader, author the reader must not see): blocks both ways, and mutes.
    pub hidden: Vec<(i64, i64)>,
    pub impersonal: Vec<i64>,
    /// (reader, topic, when): interest tags readers deleted.
    pub forgotten: Vec<(i64, i64, i64)>,
}

/// A reader's signal on a note, when (unix ms), and how many times: impressions are read
/// counted per note, and carry no reader (the engine learns nothing about readers from them).
pub type Signalled = (i64, i64, Signal, i64, u32);

/// Signals are handed over this many at a time.
const SIGNAL_CHUNK: usize = 10_000;

/// The engine's inputs for notes created at or after `since_ms`.
pub async fn snapshot(db: &Db, since_ms: i64) -> Result<Snapshot, sqlx::Error> {
    let pool = db.pool();
    let rows: Vec<(i64, i64, i64)> = query_as(&format!(
        "SELECT n.id, n.author_id, n.created_at FROM notes n WHERE {PUBLISHED} AND n.created_at >= $1 ORDER BY n.id"
    ))
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    let topics: Vec<(i64, i64)> = query_as(&format!(
        "SELECT nt.note_id, nt.topic_id FROM note_topics nt JOIN notes n ON n.id = nt.note_id \
         WHERE {PUBLISHED} AND n.created_at >= $1 ORDER BY nt.note_id, nt.position"
    ))
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    let mut by_note: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (note, topic) in topics {
        by_note.entry(note).or_default().push(topic);
    }
    let notes = rows
        .into_iter()
        .map(|(id, author, created_ms)| NoteInfo {
            id,
            author,
            topics: by_note.remove(&id).unwrap_or_default(),
            created_ms,
        })
        .collect();
    Ok(Snapshot {
        notes,
        topic_names: query_as("SELECT id, name FROM topics").fetch_all(pool).await?,
        follows: query_as("SELECT follower_id, followee_id FROM follows")
            .fetch_all(pool)
            .await?,
        hidden: query_as(
            "SELECT blocker_id, blocked_id FROM blocks UNION SELECT blocked_id, blocker_id FROM blocks \
             UNION SELECT muter_id, muted_id FROM mutes",
        )
        .fetch_all(pool)
        .await?,
        impersonal: query_scalar("SELECT user_id FROM feed_settings WHERE personalised = 0")
            .fetch_all(pool)
            .await?,
        forgotten: query_as("SELECT user_id, topic_id, at FROM feed_forgotten_interests")
            .fetch_all(pool)
            .await?,
    })
}

/// Streams every like, collect, comment and reported event on notes with ids from
/// `first_note` (ids grow with time) to `out`, in chunks, so tens of millions of them never
/// sit in memory at once. Rows come in table order, which is the order they were written;
/// impressions come last, counted per note, so traffic pools are judged with all engagement
/// known. The engine ignores signals on notes it does not hold (private, deleted, hidden).
/// Returns the number of signals sent, each impression counted.
pub async fn send_signals(
    db: &Db,
    first_note: i64,
    seen_since: i64,
    out: &tokio::sync::mpsc::Sender<Vec<Signalled>>,
) -> Result<u64, sqlx::Error> {
    // (query, whether it takes `seen_since` as $2). Impressions of the last days come one by
    // one with their reader, in the order they were written, to be remembered as seen; older
    // ones are only counted, per note, with `feed::NOBODY` as the reader. Both read the whole
    // table in its order: `+at` keeps SQLite from walking it through the index on `at`, which
    // for this many rows is several times slower.
    let queries = [
        ("SELECT user_id, note_id, CAST('like' AS TEXT), created_at, CAST(1 AS BIGINT) FROM likes WHERE note_id >= $1", false),
        ("SELECT user_id, note_id, CAST('collect' AS TEXT), created_at, CAST(1 AS BIGINT) FROM collects WHERE note_id >= $1", false),
        ("SELECT author_id, note_id, CAST('comment' AS TEXT), created_at, CAST(1 AS BIGINT) FROM comments WHERE note_id >= $1", false),
        ("SELECT user_id, note_id, kind, at, CAST(1 AS BIGINT) FROM feed_events WHERE note_id >= $1 AND kind <> 'impression'", false),
        ("SELECT CAST(0 AS BIGINT), note_id, kind, MAX(at), COUNT(*) FROM feed_events \
          WHERE note_id >= $1 AND kind = 'impression' AND +at < $2 GROUP BY note_id, kind", true),
        ("SELECT user_id, note_id, kind, at, CAST(1 AS BIGINT) FROM feed_events \
          WHERE note_id >= $1 AND kind = 'impression' AND +at >= $2", true),
    ];
    let mut sent = 0;
    for (sql, seen_bound) in queries {
        let mut query = query_as::<_, (i64, i64, String, i64, i64)>(sql).bind(first_note);
        if seen_bound {
            query = query.bind(seen_since);
        }
        let mut rows = query.fetch(db.pool());
        let mut chunk = Vec::with_capacity(SIGNAL_CHUNK);
        while let Some((reader, note, kind, at, times)) = rows.try_next().await? {
            if let Some(signal) = signal_of(&kind) {
                let times = u32::try_from(times).unwrap_or(u32::MAX);
                sent += u64::from(times);
                chunk.push((reader, note, signal, at, times));
            }
            if chunk.len() == SIGNAL_CHUNK && out.send(std::mem::take(&mut chunk)).await.is_err() {
                return Ok(sent);
            }
        }
        if out.send(chunk).await.is_err() {
            return Ok(sent);
        }
    }
    Ok(sent)
}

/// The kinds of event readers report, as stored.
fn signal_of(kind: &str) -> Option<Signal> {
    Some(match kind {
        "like" => Signal::Like,
        "collect" => Signal::Collect,
        "comment" => Signal::Comment,
        "impression" => Signal::Impression,
        "read" => Signal::Read,
        "not_interested" => Signal::NotInterested,
        "fewer_from_author" => Signal::FewerFromAuthor,
        "share" => Signal::Share,
        _ => return None,
    })
}

/// A public, published note as the engine holds it, with its topics' names; `None` otherwise.
pub async fn note_info(
    db: &Db,
    id: i64,
) -> Result<Option<(NoteInfo, Vec<(i64, String)>)>, sqlx::Error> {
    let row: Option<(i64, i64)> = query_as(&format!(
        "SELECT n.author_id, n.created_at FROM notes n WHERE n.id = $1 AND {PUBLISHED}"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some((author, created_ms)) = row else {
        return Ok(None);
    };
    let topics: Vec<(i64, String)> = query_as(
        "SELECT t.id, t.name FROM note_topics nt JOIN topics t ON t.id = nt.topic_id \
         WHERE nt.note_id = $1 ORDER BY nt.position",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let info = NoteInfo {
        id,
        author,
        topics: topics.iter().map(|(t, _)| *t).collect(),
        created_ms,
    };
    Ok(Some((info, topics)))
}

/// Records reported events, many rows per statement.
pub async fn insert_events(
    tx: &mut Tx,
    backend: Backend,
    user: Id,
    events: &[(Id, EventKind)],
    at: i64,
) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(200) {
        let sql = format!(
            "INSERT INTO feed_events (user_id, note_id, kind, at) VALUES {}",
            store::values_placeholders(backend, chunk.len(), 4)
        );
        let mut insert = query(&sql);
        for (note, kind) in chunk {
            insert = insert
                .bind(user.as_i64())
                .bind(note.as_i64())
                .bind(kind.as_str())
                .bind(at);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn set_personalised(
    tx: &mut Tx,
    user: i64,
    personalised: bool,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO feed_settings (user_id, personalised) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET personalised = excluded.personalised",
    )
    .bind(user)
    .bind(i64::from(personalised))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn personalised(db: &Db, user: i64) -> Result<bool, sqlx::Error> {
    let stored: Option<i64> =
        query_scalar("SELECT personalised FROM feed_settings WHERE user_id = $1")
            .bind(user)
            .fetch_optional(db.pool())
            .await?;
    Ok(stored != Some(0))
}

pub async fn forget_interest(
    tx: &mut Tx,
    user: i64,
    topic: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO feed_forgotten_interests (user_id, topic_id, at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, topic_id) DO UPDATE SET at = excluded.at",
    )
    .bind(user)
    .bind(topic)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
