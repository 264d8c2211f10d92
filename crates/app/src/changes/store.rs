//! The log's tables.
//!
//! **The rule that no entry is skipped.** Transactions commit in another order than the one in
//! which they took their sequence numbers, so a reader that went by `seq` alone could pass an
//! entry whose transaction had not committed yet. Readers therefore go by [`Position`] `(tx,
//! seq)` and only read entries that are *final*:
//! - On SQLite every write transaction holds the one write lock from its first write to its
//!   commit, and an entry's `seq` is one more than the highest before it, taken under that lock:
//!   `seq` order is commit order, every committed entry is final, and `tx` is 0.
//! - On PostgreSQL `tx` is the writing transaction's id. An entry is read only once every
//!   transaction with a lower id has ended (`tx` below the snapshot's `xmin`). The set of final
//!   entries then only grows above every position already read, so a reader never passes one.
//!   A long transaction delays what comes after it; it never makes a reader skip.

use ::store::{Backend, Db, Tx};
use sqlx::{query, query_as, query_scalar};

use super::types::{Change, Entry, Position, Standing};

/// Entries whose transactions are final, in reading order.
const FINAL_POSTGRES: &str =
    "tx < CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)";

fn final_only(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "1 = 1",
        Backend::Postgres => FINAL_POSTGRES,
    }
}

/// Appends an entry inside the caller's transaction.
pub async fn insert(
    tx: &mut Tx,
    backend: Backend,
    seq: i64,
    at_ms: i64,
    change: &Change,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(change).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO changes (seq, tx, at_ms, payload) \
             SELECT MAX(COALESCE(MAX(seq), 0) + 1, $1), 0, $2, $3 FROM changes"
        }
        Backend::Postgres => {
            "INSERT INTO changes (seq, tx, at_ms, payload) \
             VALUES ($1, CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT), $2, $3)"
        }
    };
    query(sql)
        .bind(seq)
        .bind(at_ms)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

type Row = (i64, i64, i64, String);

fn entries(rows: Vec<Row>) -> Result<Vec<Entry>, sqlx::Error> {
    rows.into_iter()
        .map(|(tx, seq, at_ms, payload)| {
            let change = serde_json::from_str(&payload).map_err(|e| {
                sqlx::Error::Decode(format!("change {tx}.{seq} cannot be read: {e}").into())
            })?;
            Ok(Entry {
                position: Position { tx, seq },
                at_ms,
                change,
            })
        })
        .collect()
}

/// Positions compare as row values, which both databases answer from the `(tx, seq)` index
/// (an `OR` of the two columns made SQLite scan the log).
fn read_sql(backend: Backend) -> String {
    format!(
        "SELECT tx, seq, at_ms, payload FROM changes \
         WHERE (tx, seq) > ($1, $2) AND {} ORDER BY tx, seq LIMIT $3",
        final_only(backend)
    )
}

/// Final entries after `after`, oldest first. An entry that no longer decodes is an error:
/// the reader stops there rather than pass it.
pub async fn read_after(db: &Db, after: Position, limit: u32) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = query_as(&read_sql(db.backend()))
        .bind(after.tx)
        .bind(after.seq)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    entries(rows)
}

/// The same, inside a transaction (a once-per-cluster subscriber's claimed batch).
pub async fn read_after_in(
    tx: &mut Tx,
    backend: Backend,
    after: Position,
    limit: u32,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = query_as(&read_sql(backend))
        .bind(after.tx)
        .bind(after.seq)
        .bind(i64::from(limit))
        .fetch_all(&mut **tx)
        .await?;
    entries(rows)
}

/// The last final entry's position: a subscriber that has just read everything from the
/// tables starts here.
pub async fn head(db: &Db) -> Result<Position, sqlx::Error> {
    let sql = format!(
        "SELECT tx, seq FROM changes WHERE {} ORDER BY tx DESC, seq DESC LIMIT 1",
        final_only(db.backend())
    );
    let row: Option<(i64, i64)> = query_as(&sql).fetch_optional(db.pool()).await?;
    Ok(row.map_or(Position::START, |(tx, seq)| Position { tx, seq }))
}

/// Makes sure a once-per-cluster subscriber has a position (a new one starts at the beginning
/// of what the log keeps).
pub async fn ensure_position(db: &Db, subscriber: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    query(
        "INSERT INTO change_positions (subscriber, tx, seq, updated_ms) \
         VALUES ($1, 0, 0, $2) ON CONFLICT (subscriber) DO NOTHING",
    )
    .bind(subscriber)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The last committed entry's position, final or not yet.
pub async fn last_recorded(db: &Db) -> Result<Position, sqlx::Error> {
    let row: Option<(i64, i64)> =
        query_as("SELECT tx, seq FROM changes ORDER BY tx DESC, seq DESC LIMIT 1")
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map_or(Position::START, |(tx, seq)| Position { tx, seq }))
}

/// Locks a once-per-cluster subscriber's position for this transaction; `None` while another
/// node holds it (that node is applying a batch). On SQLite the write lock is the claim.
pub async fn claim(
    tx: &mut Tx,
    backend: Backend,
    subscriber: &str,
) -> Result<Option<Position>, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT tx, seq FROM change_positions WHERE subscriber = $1",
        Backend::Postgres => {
            "SELECT tx, seq FROM change_positions WHERE subscriber = $1 FOR UPDATE SKIP LOCKED"
        }
    };
    let row: Option<(i64, i64)> = query_as(sql)
        .bind(subscriber)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(tx, seq)| Position { tx, seq }))
}

/// Where a subscriber last saved its position, if it has.
pub async fn saved_position(db: &Db, subscriber: &str) -> Result<Option<Position>, sqlx::Error> {
    let row: Option<(i64, i64)> =
        query_as("SELECT tx, seq FROM change_positions WHERE subscriber = $1")
            .bind(subscriber)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(tx, seq)| Position { tx, seq }))
}

/// Saves where a subscriber stands.
pub async fn save_position(
    db: &Db,
    subscriber: &str,
    at: Position,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    save_position_in(&mut tx, subscriber, at, now_ms).await?;
    tx.commit().await
}

pub async fn save_position_in(
    tx: &mut Tx,
    subscriber: &str,
    at: Position,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO change_positions (subscriber, tx, seq, updated_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (subscriber) DO UPDATE SET tx = excluded.tx, seq = excluded.seq, \
         updated_ms = excluded.updated_ms",
    )
    .bind(subscriber)
    .bind(at.tx)
    .bind(at.seq)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The last position retention removed.
pub async fn pruned(db: &Db) -> Result<Position, sqlx::Error> {
    let (tx, seq): (i64, i64) = query_as("SELECT tx, seq FROM changes_pruned WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok(Position { tx, seq })
}

/// Removes entries recorded before `before_ms`; returns how many.
pub async fn prune(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let last: Option<(i64, i64)> =
        query_as("SELECT tx, seq FROM changes WHERE at_ms < $1 ORDER BY tx DESC, seq DESC LIMIT 1")
            .bind(before_ms)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((last_tx, last_seq)) = last else {
        return Ok(0);
    };
    query(
        "UPDATE changes_pruned SET tx = $1, seq = $2 \
         WHERE id = 1 AND (tx < $1 OR (tx = $1 AND seq < $2))",
    )
    .bind(last_tx)
    .bind(last_seq)
    .execute(&mut *tx)
    .await?;
    let removed = query("DELETE FROM changes WHERE (tx, seq) <= ($1, $2)")
        .bind(last_tx)
        .bind(last_seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed)
}

/// How far behind `at` is: entries after it, and the time of the first of them.
pub async fn behind(db: &Db, at: Position) -> Result<(u64, Option<i64>), sqlx::Error> {
    let (count, oldest): (i64, Option<i64>) =
        query_as("SELECT COUNT(*), MIN(at_ms) FROM changes WHERE (tx, seq) > ($1, $2)")
            .bind(at.tx)
            .bind(at.seq)
            .fetch_one(db.pool())
            .await?;
    Ok((count.max(0) as u64, oldest))
}

/// Every saved position, for `hongshu changes`.
pub async fn standings(db: &Db, now_ms: i64) -> Result<Vec<Standing>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = query_as(
        "SELECT subscriber, tx, seq, updated_ms FROM change_positions ORDER BY subscriber",
    )
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for (subscriber, tx, seq, updated_ms) in rows {
        let at = Position { tx, seq };
        let (behind, oldest) = behind(db, at).await?;
        out.push(Standing {
            subscriber,
            position: at.to_string(),
            behind,
            lag_ms: oldest.map_or(0, |t| (now_ms - t).max(0)),
            saved_ago_ms: (now_ms - updated_ms).max(0),
        });
    }
    Ok(out)
}

/// Entries in the log now.
pub async fn count(db: &Db) -> Result<u64, sqlx::Error> {
    let n: i64 = query_scalar("SELECT COUNT(*) FROM changes")
        .fetch_one(db.pool())
        .await?;
    Ok(n.max(0) as u64)
}
