//! The SQL of media.

use kernel::{Id, Timestamp};
use store::{query, query_as, Db, TextState};

use super::types::{object_url, Media, MediaKind};

type MediaRow = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const COLUMNS: &str =
    "id, owner_id, kind, width, height, color, display_key, card_key, mime, bytes, created_at";

fn to_media(
    (id, owner, kind, width, height, color, display, card, mime, bytes, at): MediaRow,
) -> Result<Media, sqlx::Error> {
    Ok(Media {
        id: Id::from_i64(id),
        owner_id: Id::from_i64(owner),
        kind: MediaKind::from_db(&kind)?,
        width,
        height,
        color,
        url: object_url(&display),
        card_url: (!card.is_empty()).then(|| object_url(&card)),
        mime,
        bytes,
        created_at: Timestamp::from_millis(at),
    })
}

pub struct NewMedia<'a> {
    pub id: Id,
    pub owner_id: Id,
    pub kind: MediaKind,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub color: &'a str,
    pub display_key: &'a str,
    pub card_key: &'a str,
    pub mime: &'a str,
    pub bytes: i64,
    pub now: Timestamp,
}

pub async fn insert(db: &Db, m: &NewMedia<'_>) -> Result<(), sqlx::Error> {
    query(&format!(
        "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(m.id.as_i64())
    .bind(m.owner_id.as_i64())
    .bind(m.kind.as_str())
    .bind(m.width)
    .bind(m.height)
    .bind(m.color)
    .bind(m.display_key)
    .bind(m.card_key)
    .bind(m.mime)
    .bind(m.bytes)
    .bind(m.now.as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The media with these ids, in no particular order.
pub async fn by_ids(db: &Db, ids: &[Id]) -> Result<Vec<Media>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = store::values_placeholders(db.backend(), 1, ids.len());
    let sql = format!("SELECT {COLUMNS} FROM media WHERE id IN {list}");
    store::bind_all(
        query_as::<_, MediaRow>(&sql),
        ids.iter().map(|id| id.as_i64()),
    )
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .map(to_media)
    .collect::<Result<_, _>>()
}
