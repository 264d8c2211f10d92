//! The SQL search needs: documents to index, the query log and suggestions.

use kernel::Timestamp;
use search::{NoteDoc, ProductDoc, TopicDoc, UserDoc};
use store::{query, query_as, query_scalar, Db};

use crate::notes::store::PUBLISHED;

/// The searchable notes, further narrowed by `more` (SQL starting with `AND`, or empty).
fn note_docs(more: &str) -> String {
    format!(
        "SELECT n.id, n.title, n.body, n.author_id, n.like_count + n.collect_count, n.created_at \
         FROM notes n WHERE {PUBLISHED} {more}"
    )
}

fn note(
    (id, title, body, author_id, engagement, created_at_ms): (i64, String, String, i64, i64, i64),
) -> NoteDoc {
    NoteDoc {
        id,
        title,
        body,
        author_id,
        engagement: engagement.max(0) as u64,
        created_at_ms,
    }
}

/// Public, published notes after `after` by id, for (re)building the index in pages.
pub async fn notes_after(db: &Db, after: i64, limit: u32) -> Result<Vec<NoteDoc>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i64, i64, i64)> =
        query_as(&note_docs("AND n.id > $1 ORDER BY n.id LIMIT $2"))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(note).collect())
}

/// The note as search should hold it, or `None` when it must not be searchable.
pub async fn note_doc(db: &Db, id: i64) -> Result<Option<NoteDoc>, sqlx::Error> {
    let row = query_as(&note_docs("AND n.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(note))
}

const USER_DOC: &str = "SELECT u.id, u.handle, u.display_name, u.bio, \
    (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.id), u.created_at FROM users u \
    WHERE u.deleted_at IS NULL";

type UserRow = (i64, String, String, String, i64, i64);

fn user((id, handle, display_name, bio, followers, created_at_ms): UserRow) -> UserDoc {
    UserDoc {
        id,
        handle,
        display_name,
        bio,
        followers: followers.max(0) as u64,
        created_at_ms,
    }
}

pub async fn users_after(db: &Db, after: i64, limit: u32) -> Result<Vec<UserDoc>, sqlx::Error> {
    let rows: Vec<UserRow> = query_as(&format!("{USER_DOC} AND u.id > $1 ORDER BY u.id LIMIT $2"))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(user).collect())
}

pub async fn user_doc(db: &Db, id: i64) -> Result<Option<UserDoc>, sqlx::Error> {
    let row: Option<UserRow> = query_as(&format!("{USER_DOC} AND u.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(user))
}

/// The products on sale, further narrowed by `more` (SQL starting with `AND`, or empty).
fn product_docs(more: &str) -> String {
    format!(
        "SELECT p.id, p.title, p.description, s.name, p.sold, p.created_at \
         FROM products p JOIN stores s ON s.id = p.store_id WHERE p.state = 'on_sale' {more}"
    )
}

type ProductRow = (i64, String, String, String, i64, i64);

fn product((id, title, description, store_name, sold, created_at_ms): ProductRow) -> ProductDoc {
    ProductDoc {
        id,
        title,
        description,
        store_name,
        sold: sold.max(0) as u64,
        created_at_ms,
    }
}

/// Products on sale after `after` by id, for (re)building the index in pages.
pub async fn products_after(
    db: &Db,
    after: i64,
    limit: u32,
) -> Result<Vec<ProductDoc>, sqlx::Error> {
    let rows: Vec<ProductRow> = query_as(&product_docs("AND p.id > $1 ORDER BY p.id LIMIT $2"))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(product).collect())
}

/// The product as search should hold it, or `None` when it is not on sale.
pub async fn product_doc(db: &Db, id: i64) -> Result<Option<ProductDoc>, sqlx::Error> {
    let row: Option<ProductRow> = query_as(&product_docs("AND p.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(product))
}

/// Every product of a store, in any state (a renamed store's products are found by its new name).
pub async fn products_of_store(db: &Db, store: i64) -> Result<Vec<i64>, sqlx::Error> {
    query_scalar("SELECT id FROM products WHERE store_id = $1")
        .bind(store)
        .fetch_all(db.pool())
        .await
}

/// The products an order bought (their units sold change when it is paid).
pub async fn products_of_order(db: &Db, order: i64) -> Result<Vec<i64>, sqlx::Error> {
    query_scalar("SELECT DISTINCT product_id FROM order_items WHERE order_id = $1")
        .bind(order)
        .fetch_all(db.pool())
        .await
}

/// Which topics to load.
pub enum Topics<'a> {
    All,
    /// The topics one note uses.
    OfNote(i64),
    /// These topics (search hits).
    Ids(&'a [i64]),
}

/// Topics with how many public notes use them.
pub async fn topics(db: &Db, which: Topics<'_>) -> Result<Vec<TopicDoc>, sqlx::Error> {
    let filter = match which {
        Topics::All => String::new(),
        Topics::OfNote(note) => {
            format!("WHERE t.id IN (SELECT topic_id FROM note_topics WHERE note_id = {note})")
        }
        Topics::Ids([]) => return Ok(Vec::new()),
        Topics::Ids(ids) => format!(
            "WHERE t.id IN {}",
            store::values_placeholders(db.backend(), 1, ids.len())
        ),
    };
    let sql = format!(
        "SELECT t.id, t.name, (SELECT COUNT(*) FROM note_topics nt JOIN notes n ON n.id = nt.note_id \
         WHERE nt.topic_id = t.id AND {PUBLISHED}), t.created_at FROM topics t {filter}"
    );
    let ids = match which {
        Topics::Ids(ids) => ids,
        Topics::All | Topics::OfNote(_) => &[],
    };
    Ok(store::bind_all(
        query_as::<_, (i64, String, i64, i64)>(&sql),
        ids.iter().copied(),
    )
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .map(|(id, name, notes, created_at_ms)| TopicDoc {
        id,
        name,
        notes: notes.max(0) as u64,
        created_at_ms,
    })
    .collect())
}

/// How many notes, members and products a full build indexes.
pub async fn searchable_count(db: &Db) -> Result<u64, sqlx::Error> {
    let count: i64 = query_scalar(&format!(
        "SELECT (SELECT COUNT(*) FROM notes n WHERE {PUBLISHED}) + (SELECT COUNT(*) FROM users) \
         + (SELECT COUNT(*) FROM products WHERE state = 'on_sale')"
    ))
    .fetch_one(db.pool())
    .await?;
    Ok(count.max(0) as u64)
}

/// Everyone the viewer must not see: people they blocked and people who blocked them.
pub async fn blocked_ids(db: &Db, viewer: i64) -> Result<Vec<i64>, sqlx::Error> {
    query_scalar(
        "SELECT blocked_id FROM blocks WHERE blocker_id = $1 UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1",
    )
    .bind(viewer)
    .fetch_all(db.pool())
    .await
}

pub async fn log_query(db: &Db, text: &str) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO search_queries (query, uses, last_used_at) VALUES ($1, 1, $2) \
         ON CONFLICT (query) DO UPDATE SET uses = search_queries.uses + 1, last_used_at = excluded.last_used_at",
    )
    .bind(text)
    .bind(Timestamp::now().as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// `LIKE` pattern for a prefix, with the wildcards in the prefix itself taken literally.
fn prefix_pattern(prefix: &str) -> String {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("{escaped}%")
}

/// Topics starting with the prefix, most used first.
pub async fn topics_by_prefix(
    db: &Db,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>, sqlx::Error> {
    query_scalar(
        "SELECT t.name FROM topics t LEFT JOIN note_topics nt ON nt.topic_id = t.id \
         WHERE t.name LIKE $1 ESCAPE '\\' GROUP BY t.id, t.name ORDER BY COUNT(nt.note_id) DESC, t.name LIMIT $2",
    )
    .bind(prefix_pattern(prefix))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await
}

/// Past queries starting with the prefix, most used first.
pub async fn queries_by_prefix(
    db: &Db,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>, sqlx::Error> {
    query_scalar("SELECT query FROM search_queries WHERE query LIKE $1 ESCAPE '\\' ORDER BY uses DESC, query LIMIT $2")
        .bind(prefix_pattern(prefix))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_in_a_prefix_are_literal() {
        assert_eq!(super::prefix_pattern("50%_off"), "50\\%\\_off%");
    }
}
