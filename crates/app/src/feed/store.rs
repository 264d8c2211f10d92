//! The SQL the feed needs: everything to rebuild the engine, and the events it records.

use feed::{NoteInfo, Signal};
use store::{query, query_as, query_scalar, Db};

use crate::notes::store::PUBLISHED;

/// Everything the engine is built from.
pub struct Snapshot {
    pub notes: Vec<NoteInfo>,
    pub topic_names: Vec<(i64, String)>,
    pub follows: Vec<(i64, i64)>,
    /// (reader, author the reader must not see): blocks both ways, and mutes.
    pub hidden: Vec<(i64, i64)>,
    pub signals: Vec<(i64, i64, Signal)>,
    pub impersonal: Vec<i64>,
}

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
    let window =
        format!("JOIN notes n ON n.id = x.note_id WHERE {PUBLISHED} AND n.created_at >= $1");
    let mut signals = Vec::new();
    for (sql, signal) in [
        ("SELECT x.user_id, x.note_id FROM likes x", Signal::Like),
        (
            "SELECT x.user_id, x.note_id FROM collects x",
            Signal::Collect,
        ),
        (
            "SELECT x.author_id, x.note_id FROM comments x",
            Signal::Comment,
        ),
    ] {
        let pairs: Vec<(i64, i64)> = query_as(&format!("{sql} {window}"))
            .bind(since_ms)
            .fetch_all(pool)
            .await?;
        signals.extend(pairs.into_iter().map(|(u, n)| (u, n, signal)));
    }
    let events: Vec<(i64, i64, String)> = query_as(&format!(
        "SELECT x.user_id, x.note_id, x.kind FROM feed_events x {window} ORDER BY x.at"
    ))
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    signals.extend(
        events
            .into_iter()
            .filter_map(|(u, n, kind)| signal_of(&kind).map(|s| (u, n, s))),
    );
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
        signals,
        impersonal: query_scalar("SELECT user_id FROM feed_settings WHERE personalised = 0")
            .fetch_all(pool)
            .await?,
    })
}

/// The kinds of event readers report, as stored.
pub fn signal_of(kind: &str) -> Option<Signal> {
    Some(match kind {
        "impression" => Signal::Impression,
        "read" => Signal::Read,
        "not_interested" => Signal::NotInterested,
        "fewer_from_author" => Signal::FewerFromAuthor,
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
    db: &Db,
    user: i64,
    events: &[(i64, &str)],
    at: i64,
) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(200) {
        let sql = format!(
            "INSERT INTO feed_events (user_id, note_id, kind, at) VALUES {}",
            store::values_placeholders(db.backend(), chunk.len(), 4)
        );
        let mut insert = query(&sql);
        for (note, kind) in chunk {
            insert = insert.bind(user).bind(*note).bind(*kind).bind(at);
        }
        insert.execute(db.pool()).await?;
    }
    Ok(())
}

pub async fn set_personalised(db: &Db, user: i64, personalised: bool) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO feed_settings (user_id, personalised) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET personalised = excluded.personalised",
    )
    .bind(user)
    .bind(i64::from(personalised))
    .execute(db.pool())
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
