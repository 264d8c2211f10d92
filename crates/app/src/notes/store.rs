//! The SQL of notes, their media and topics.

use kernel::{Id, Timestamp};
use store::{query, query_as, query_scalar, Db, TextState, Tx};

use super::types::{Author, Visibility};
use crate::media::store as media_store;
use crate::media::types::Media;

/// A note's own row, with its author.
#[derive(Debug, Clone)]
pub struct NoteRow {
    pub id: Id,
    pub author: Author,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub place: String,
    pub visibility: Visibility,
    pub draft: bool,
    pub like_count: i64,
    pub collect_count: i64,
    pub comment_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub edited_at: Option<Timestamp>,
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
);

const SELECT: &str = "SELECT n.id, n.author_id, u.handle, u.display_name, n.kind, n.title, n.body, n.place, \
    n.visibility, n.draft, n.like_count, n.collect_count, n.comment_count, n.created_at, n.updated_at, n.edited_at \
    FROM notes n JOIN users u ON u.id = n.author_id";

/// Hides notes of people the viewer blocked or who blocked the viewer.
const NOT_BLOCKED: &str = "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = n.author_id AND b.blocked_id = VIEWER) \
    OR (b.blocker_id = VIEWER AND b.blocked_id = n.author_id))";

/// The block filter, with the viewer given as a parameter (`$1`) or a number.
fn not_blocked(viewer: &str) -> String {
    NOT_BLOCKED.replace("VIEWER", viewer)
}

fn to_note(r: Row) -> Result<NoteRow, sqlx::Error> {
    Ok(NoteRow {
        id: Id::from_i64(r.0),
        author: Author {
            id: Id::from_i64(r.1),
            handle: r.2,
            display_name: r.3,
        },
        kind: r.4,
        title: r.5,
        body: r.6,
        place: r.7,
        visibility: Visibility::from_db(&r.8)?,
        draft: store::flag(r.9),
        like_count: r.10,
        collect_count: r.11,
        comment_count: r.12,
        created_at: Timestamp::from_millis(r.13),
        updated_at: Timestamp::from_millis(r.14),
        edited_at: r.15.map(Timestamp::from_millis),
    })
}

/// What an author wrote, checked.
pub struct Content<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub place: &'a str,
    pub visibility: Visibility,
    pub draft: bool,
    pub media: &'a [Id],
    pub topics: &'a [String],
    /// Fresh ids, one per topic, for topics used for the first time.
    pub topic_ids: &'a [Id],
    /// Products the note tags, in order.
    pub products: &'a [Id],
}

pub async fn insert(
    tx: &mut Tx,
    id: Id,
    author: Id,
    content: &Content<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO notes (id, author_id, kind, title, body, place, visibility, draft, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(id.as_i64())
    .bind(author.as_i64())
    .bind(content.kind)
    .bind(content.title)
    .bind(content.body)
    .bind(content.place)
    .bind(content.visibility.as_str())
    .bind(i64::from(content.draft))
    .bind(now.as_millis())
    .execute(&mut **tx)
    .await?;
    attach(tx, id, content, now).await
}

/// Replaces what the author wrote; `edited_at` marks a change to a note already published.
pub async fn update(
    tx: &mut Tx,
    id: Id,
    content: &Content<'_>,
    now: Timestamp,
    edited_at: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE notes SET kind = $1, title = $2, body = $3, place = $4, visibility = $5, draft = $6, \
         updated_at = $7, edited_at = $8 WHERE id = $9",
    )
    .bind(content.kind)
    .bind(content.title)
    .bind(content.body)
    .bind(content.place)
    .bind(content.visibility.as_str())
    .bind(i64::from(content.draft))
    .bind(now.as_millis())
    .bind(edited_at.map(Timestamp::as_millis))
    .bind(id.as_i64())
    .execute(&mut **tx)
    .await?;
    for table in ["note_media", "note_topics", "note_products"] {
        query(&format!("DELETE FROM {table} WHERE note_id = $1"))
            .bind(id.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    attach(tx, id, content, now).await
}

/// Links the note to its media (in order) and topics (created on first use).
async fn attach(
    tx: &mut Tx,
    id: Id,
    content: &Content<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    for (position, media) in content.media.iter().enumerate() {
        query("INSERT INTO note_media (note_id, position, media_id) VALUES ($1, $2, $3)")
            .bind(id.as_i64())
            .bind(position as i64)
            .bind(media.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    for (position, product) in content.products.iter().enumerate() {
        query("INSERT INTO note_products (note_id, position, product_id) VALUES ($1, $2, $3)")
            .bind(id.as_i64())
            .bind(position as i64)
            .bind(product.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    for (position, (topic, topic_id)) in content.topics.iter().zip(content.topic_ids).enumerate() {
        query("INSERT INTO topics (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(topic_id.as_i64())
            .bind(topic)
            .bind(now.as_millis())
            .execute(&mut **tx)
            .await?;
        query(
            "INSERT INTO note_topics (note_id, topic_id, position) \
             SELECT $1, id, $2 FROM topics WHERE name = $3",
        )
        .bind(id.as_i64())
        .bind(position as i64)
        .bind(topic)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The products a note tags, in order.
pub async fn tagged_products(db: &Db, note: Id) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<i64> =
        query_scalar("SELECT product_id FROM note_products WHERE note_id = $1 ORDER BY position")
            .bind(note.as_i64())
            .fetch_all(db.pool())
            .await?;
    Ok(ids.into_iter().map(Id::from_i64).collect())
}

pub async fn delete(tx: &mut Tx, id: Id) -> Result<(), sqlx::Error> {
    query("DELETE FROM notes WHERE id = $1")
        .bind(id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn by_id(db: &Db, id: Id) -> Result<Option<NoteRow>, sqlx::Error> {
    let row: Option<Row> = query_as(&format!("{SELECT} WHERE n.id = $1"))
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    row.map(to_note).transpose()
}

/// The rule for a note others may see: public and published (notes aliased `n`). Lists,
/// search documents, profile counts and the feed all use it, so a new reason to hide a note
/// (a moderator's takedown) is added here once.
pub const PUBLISHED: &str = "n.visibility = 'public' AND n.draft = 0";

/// Which notes a list shows. Others than the author see only published public notes.
pub enum Scope<'a> {
    /// One author's notes; `own` when the author is the one looking.
    Author { id: Id, own: bool },
    /// Notes under a topic.
    Topic(&'a str),
}

/// A page of notes in a scope, newest first, before the cursor id, nothing across a block.
pub async fn list(
    db: &Db,
    scope: Scope<'_>,
    viewer: Option<Id>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<NoteRow>, sqlx::Error> {
    let (join, filter) = match scope {
        Scope::Author { own: true, .. } => ("", "n.author_id = $4".to_owned()),
        Scope::Author { own: false, .. } => ("", format!("n.author_id = $4 AND {PUBLISHED}")),
        Scope::Topic(_) => (
            "JOIN note_topics nt ON nt.note_id = n.id JOIN topics t ON t.id = nt.topic_id",
            format!("t.name = $4 AND {PUBLISHED}"),
        ),
    };
    let sql = format!(
        "{SELECT} {join} WHERE {filter} AND n.id < $2 AND {} ORDER BY n.id DESC LIMIT $3",
        not_blocked("$1")
    );
    let query = query_as::<_, Row>(&sql)
        .bind(viewer.map_or(0, Id::as_i64))
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit));
    let query = match scope {
        Scope::Author { id, .. } => query.bind(id.as_i64()),
        Scope::Topic(topic) => query.bind(topic),
    };
    query
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(to_note)
        .collect::<Result<_, _>>()
}

/// Published public notes with these ids, in no particular order. Blocks are the caller's to
/// apply (see [`visible_with_marks`]).
pub async fn public_by_ids(db: &Db, ids: &[i64]) -> Result<Vec<NoteRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{SELECT} WHERE n.id IN {} AND {PUBLISHED}",
        in_list(db, ids.len())
    );
    store::bind_all(query_as::<_, Row>(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(to_note)
        .collect::<Result<_, _>>()
}

/// Which of these notes the viewer may see in a list (published, public, no block either way),
/// with whether the viewer liked and collected each: (note id, liked, collected). One query.
pub async fn visible_with_marks(
    db: &Db,
    viewer: Option<Id>,
    ids: &[i64],
) -> Result<Vec<(i64, bool, bool)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The viewer's id is a number we issued (0 when signed out), so it goes into the text.
    let viewer = viewer.map_or(0, Id::as_i64).to_string();
    let marked = |table: &str| {
        format!(
            "CAST(CASE WHEN EXISTS (SELECT 1 FROM {table} m WHERE m.user_id = {viewer} \
             AND m.note_id = n.id) THEN 1 ELSE 0 END AS BIGINT)"
        )
    };
    let sql = format!(
        "SELECT n.id, {}, {} FROM notes n WHERE n.id IN {} AND {PUBLISHED} AND {}",
        marked("likes"),
        marked("collects"),
        in_list(db, ids.len()),
        not_blocked(&viewer)
    );
    let rows = store::bind_all(query_as::<_, (i64, i64, i64)>(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, liked, collected)| (id, store::flag(liked), store::flag(collected)))
        .collect())
}

/// `IN (…)` placeholders for `n` values, the only parameters of their statement.
fn in_list(db: &Db, n: usize) -> String {
    store::values_placeholders(db.backend(), 1, n)
}

/// Media of notes in order: (note id, media). Two queries, however many notes.
pub async fn media_of(db: &Db, notes: &[Id]) -> Result<Vec<(Id, Media)>, sqlx::Error> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT note_id, position, media_id FROM note_media WHERE note_id IN {} ORDER BY note_id, position",
        in_list(db, notes.len())
    );
    let links = store::bind_all(
        query_as::<_, (i64, i64, i64)>(&sql),
        notes.iter().map(|n| n.as_i64()),
    )
    .fetch_all(db.pool())
    .await?;
    let ids: Vec<Id> = links.iter().map(|l| Id::from_i64(l.2)).collect();
    let media = media_store::by_ids(db, &ids).await?;
    Ok(links
        .into_iter()
        .filter_map(|(note, _, media_id)| {
            let found = media.iter().find(|m| m.id.as_i64() == media_id)?;
            Some((Id::from_i64(note), found.clone()))
        })
        .collect())
}

/// Topics of notes, in the order they appear: (note id, topic). One query.
pub async fn topics_of(db: &Db, notes: &[Id]) -> Result<Vec<(Id, String)>, sqlx::Error> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT nt.note_id, t.name FROM note_topics nt JOIN topics t ON t.id = nt.topic_id \
         WHERE nt.note_id IN {} ORDER BY nt.note_id, nt.position",
        in_list(db, notes.len())
    );
    let rows = store::bind_all(
        query_as::<_, (i64, String)>(&sql),
        notes.iter().map(|n| n.as_i64()),
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, t)| (Id::from_i64(n), t))
        .collect())
}

/// Which of the notes the viewer liked and collected: (note id, liked, collected). Two queries.
pub async fn viewer_marks(
    db: &Db,
    viewer: Id,
    notes: &[Id],
) -> Result<Vec<(Id, bool, bool)>, sqlx::Error> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let mut marked = Vec::new();
    for table in ["likes", "collects"] {
        // The viewer's id is a number we issued, so it goes into the text; the list is bound.
        let sql = format!(
            "SELECT note_id FROM {table} WHERE user_id = {} AND note_id IN {}",
            viewer.as_i64(),
            in_list(db, notes.len())
        );
        let mut query = query_scalar::<_, i64>(&sql);
        for note in notes {
            query = query.bind(note.as_i64());
        }
        marked.push(query.fetch_all(db.pool()).await?);
    }
    Ok(notes
        .iter()
        .map(|note| {
            (
                *note,
                marked[0].contains(&note.as_i64()),
                marked[1].contains(&note.as_i64()),
            )
        })
        .collect())
}

/// The most used topics, for the composer's suggestions.
pub async fn popular_topics(db: &Db, limit: u32) -> Result<Vec<String>, sqlx::Error> {
    query_scalar(
        "SELECT t.name FROM topics t JOIN note_topics nt ON nt.topic_id = t.id \
         GROUP BY t.id, t.name ORDER BY COUNT(*) DESC, t.name LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await
}
