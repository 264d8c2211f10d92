//! The SQL of privacy: every table that holds something of a member, read for their archive
//! and cleared when they leave.

use kernel::{Id, Timestamp};
use serde_json::{Map, Value};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use store::{query, query_scalar, Db, Tx};

/// What the archive holds, section by section: each query takes the member's id as `$1`.
pub const SECTIONS: [(&str, &str); 17] = [
    ("profile", "SELECT id, handle, display_name, bio, role, created_at FROM users WHERE id = $1"),
    ("notes", "SELECT id, title, body, visibility, draft, place, created_at, edited_at, like_count, \
        collect_count, comment_count FROM notes WHERE author_id = $1 ORDER BY id"),
    ("note_media", "SELECT m.note_id, m.position, d.display_key, d.mime FROM note_media m \
        JOIN notes n ON n.id = m.note_id JOIN media d ON d.id = m.media_id \
        WHERE n.author_id = $1 ORDER BY m.note_id, m.position"),
    ("comments", "SELECT id, note_id, parent_id, body, created_at FROM comments WHERE author_id = $1 ORDER BY id"),
    ("likes", "SELECT note_id, created_at FROM likes WHERE user_id = $1 ORDER BY created_at"),
    ("comment_likes", "SELECT comment_id, created_at FROM comment_likes WHERE user_id = $1 ORDER BY created_at"),
    ("boards", "SELECT id, name, created_at FROM boards WHERE owner_id = $1 ORDER BY id"),
    ("collects", "SELECT note_id, board_id, created_at FROM collects WHERE user_id = $1 ORDER BY created_at"),
    ("following", "SELECT u.handle, f.created_at FROM follows f JOIN users u ON u.id = f.followee_id \
        WHERE f.follower_id = $1 ORDER BY f.created_at"),
    ("followers", "SELECT u.handle, f.created_at FROM follows f JOIN users u ON u.id = f.follower_id \
        WHERE f.followee_id = $1 ORDER BY f.created_at"),
    ("blocks", "SELECT u.handle, b.created_at FROM blocks b JOIN users u ON u.id = b.blocked_id \
        WHERE b.blocker_id = $1 ORDER BY b.created_at"),
    ("mutes", "SELECT u.handle, m.created_at FROM mutes m JOIN users u ON u.id = m.muted_id \
        WHERE m.muter_id = $1 ORDER BY m.created_at"),
    ("addresses", "SELECT id, name, phone, region, detail, created_at FROM addresses WHERE user_id = $1 ORDER BY id"),
    ("orders", "SELECT o.id, s.name AS store, o.status, o.currency, o.items_total, o.shipping_fee, o.total, \
        o.ship_to, o.carrier, o.tracking_number, o.created_at FROM orders o JOIN stores s ON s.id = o.store_id \
        WHERE o.buyer_id = $1 ORDER BY o.id"),
    ("order_items", "SELECT i.order_id, i.position, i.title, i.sku_name, i.unit_price, i.quantity, i.note_id \
        FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.buyer_id = $1 ORDER BY i.order_id, i.position"),
    ("reviews", "SELECT order_id, position, rating, body, created_at FROM reviews WHERE buyer_id = $1 ORDER BY created_at"),
    ("impressions", "SELECT kind, COUNT(*) AS events, MIN(at) AS first_at, MAX(at) AS last_at \
        FROM feed_events WHERE user_id = $1 GROUP BY kind ORDER BY kind"),
];

/// The rows of one section as JSON objects, column by column.
pub async fn section(db: &Db, sql: &str, member: Id) -> Result<Vec<Value>, sqlx::Error> {
    let rows = query(sql)
        .bind(member.as_i64())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(row_as_json).collect()
}

fn row_as_json(row: &store::Row) -> Result<Value, sqlx::Error> {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name().to_ascii_uppercase().as_str() {
                "BIGINT" | "INTEGER" | "INT8" | "INT4" | "INT2" | "SMALLINT" => {
                    Value::from(row.try_get::<i64, _>(i)?)
                }
                _ => Value::from(row.try_get::<String, _>(i)?),
            }
        };
        object.insert(column.name().to_owned(), value);
    }
    Ok(Value::Object(object))
}

/// The member's note ids, for deleting them through the notes domain.
pub async fn note_ids(db: &Db, member: Id) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<i64> = query_scalar("SELECT id FROM notes WHERE author_id = $1")
        .bind(member.as_i64())
        .fetch_all(db.pool())
        .await?;
    Ok(ids.into_iter().map(Id::from_i64).collect())
}

/// Organisations the member alone owns: they must hand them over before leaving.
pub async fn sole_ownerships(db: &Db, member: Id) -> Result<Vec<String>, sqlx::Error> {
    query_scalar(
        "SELECT o.slug FROM orgs o JOIN org_members m ON m.org_id = o.id \
         WHERE m.user_id = $1 AND m.role = 'owner' AND NOT EXISTS (SELECT 1 FROM org_members x \
         WHERE x.org_id = o.id AND x.role = 'owner' AND x.user_id <> $1)",
    )
    .bind(member.as_i64())
    .fetch_all(db.pool())
    .await
}

/// What the member did on others' notes and comments, their graph, settings, sessions,
/// addresses and staff roles: deleted (replies to their comments go with them).
const ERASE: [&str; 17] = [
    "DELETE FROM comment_likes WHERE user_id = $1 OR comment_id IN (SELECT id FROM comments WHERE author_id = $1)",
    "DELETE FROM notifications WHERE recipient_id = $1 OR actor_id = $1 \
     OR comment_id IN (SELECT id FROM comments WHERE author_id = $1)",
    "DELETE FROM comments WHERE author_id = $1",
    "DELETE FROM likes WHERE user_id = $1",
    "DELETE FROM collects WHERE user_id = $1",
    "DELETE FROM boards WHERE owner_id = $1",
    "DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1",
    "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
    "DELETE FROM mutes WHERE muter_id = $1 OR muted_id = $1",
    "DELETE FROM reports WHERE reporter_id = $1",
    "DELETE FROM feed_events WHERE user_id = $1",
    "DELETE FROM feed_settings WHERE user_id = $1",
    "DELETE FROM feed_forgotten_interests WHERE user_id = $1",
    "DELETE FROM auth_tokens WHERE user_id = $1",
    "DELETE FROM cart_items WHERE user_id = $1",
    "DELETE FROM addresses WHERE user_id = $1",
    "DELETE FROM org_members WHERE user_id = $1",
];

/// The counts shown on a note and its comments, counted again from their rows.
const RECOUNT: [&str; 2] = [
    "UPDATE notes SET like_count = (SELECT COUNT(*) FROM likes l WHERE l.note_id = notes.id), \
     collect_count = (SELECT COUNT(*) FROM collects c WHERE c.note_id = notes.id), \
     comment_count = (SELECT COUNT(*) FROM comments c WHERE c.note_id = notes.id) WHERE id = $1",
    "UPDATE comments SET like_count = (SELECT COUNT(*) FROM comment_likes l \
     WHERE l.comment_id = comments.id) WHERE note_id = $1",
];

/// Erases the member's traces on others' notes, their graph, settings, sessions and addresses,
/// removes the personal fields of their orders (kept for the retention period) and of their
/// reviews, and anonymises their row. Returns the notes whose counts changed.
pub async fn erase(tx: &mut Tx, member: Id, now: Timestamp) -> Result<Vec<Id>, sqlx::Error> {
    let touched: Vec<i64> = query_scalar(
        "SELECT note_id FROM likes WHERE user_id = $1 UNION SELECT note_id FROM collects WHERE user_id = $1 \
         UNION SELECT note_id FROM comments WHERE author_id = $1",
    )
    .bind(member.as_i64())
    .fetch_all(&mut **tx)
    .await?;
    for sql in ERASE {
        query(sql).bind(member.as_i64()).execute(&mut **tx).await?;
    }
    for note in &touched {
        for sql in RECOUNT {
            query(sql).bind(note).execute(&mut **tx).await?;
        }
    }
    // Orders keep what accounting needs: the region shipped to, never the person.
    query(
        "UPDATE orders SET ship_to = '{\"name\":\"\",\"phone\":\"\",\"region\":\"\",\"detail\":\"\"}' \
         WHERE buyer_id = $1",
    )
    .bind(member.as_i64())
    .execute(&mut **tx)
    .await?;
    query("UPDATE reviews SET body = '' WHERE buyer_id = $1")
        .bind(member.as_i64())
        .execute(&mut **tx)
        .await?;
    query(
        "DELETE FROM review_media WHERE review_id IN (SELECT id FROM reviews WHERE buyer_id = $1)",
    )
    .bind(member.as_i64())
    .execute(&mut **tx)
    .await?;
    query(
        "UPDATE users SET handle = $2, display_name = '', bio = '', password_hash = '', \
         role = 'member', deleted_at = $3 WHERE id = $1",
    )
    .bind(member.as_i64())
    .bind(format!("deleted_{}", member.as_i64()))
    .bind(now.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(touched.into_iter().map(Id::from_i64).collect())
}
