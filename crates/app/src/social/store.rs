//! The SQL of the social graph. Writes that change a shown count take the transaction in which
//! the count is updated, so counts always equal the rows they count.

use kernel::{Id, Timestamp};
use store::{query, query_as, query_scalar, Db, TextState, Tx};

use super::types::{Board, Comment, NotificationKind};
use crate::notes::store::PUBLISHED;
use crate::notes::types::Author;

fn author((id, handle, display_name): (i64, String, String)) -> Author {
    Author {
        id: Id::from_i64(id),
        handle,
        display_name,
    }
}

/// Inserts a pair into a two-column relation; true when it was not there.
pub async fn relate(
    tx: &mut Tx,
    table: &str,
    columns: (&str, &str),
    pair: (Id, Id),
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO {table} ({}, {}, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        columns.0, columns.1
    );
    let done = query(&sql)
        .bind(pair.0.as_i64())
        .bind(pair.1.as_i64())
        .bind(now.as_millis())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a pair from a two-column relation; true when it was there.
pub async fn unrelate(
    tx: &mut Tx,
    table: &str,
    columns: (&str, &str),
    pair: (Id, Id),
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "DELETE FROM {table} WHERE {} = $1 AND {} = $2",
        columns.0, columns.1
    );
    let done = query(&sql)
        .bind(pair.0.as_i64())
        .bind(pair.1.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn related(
    db: &Db,
    table: &str,
    columns: (&str, &str),
    pair: (Id, Id),
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM {table} WHERE {} = $1 AND {} = $2",
        columns.0, columns.1
    );
    let n: i64 = query_scalar(&sql)
        .bind(pair.0.as_i64())
        .bind(pair.1.as_i64())
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// Adds `delta` to a counter column of a row.
pub async fn bump(
    tx: &mut Tx,
    table: &str,
    column: &str,
    id: Id,
    delta: i64,
) -> Result<(), sqlx::Error> {
    let sql = format!("UPDATE {table} SET {column} = {column} + $1 WHERE id = $2");
    query(&sql)
        .bind(delta)
        .bind(id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn counter(db: &Db, table: &str, column: &str, id: Id) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT {column} FROM {table} WHERE id = $1");
    query_scalar(&sql)
        .bind(id.as_i64())
        .fetch_one(db.pool())
        .await
}

/// Ends follows in both directions (a block does).
pub async fn sever(tx: &mut Tx, a: Id, b: Id) -> Result<(), sqlx::Error> {
    query("DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)")
        .bind(a.as_i64())
        .bind(b.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Followers (`followee` side) or followings of a user, by the other user's id descending.
pub async fn follow_list(
    db: &Db,
    user: Id,
    followers: bool,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Author>, sqlx::Error> {
    let (mine, theirs) = if followers {
        ("followee_id", "follower_id")
    } else {
        ("follower_id", "followee_id")
    };
    let sql = format!(
        "SELECT u.id, u.handle, u.display_name FROM follows f JOIN users u ON u.id = f.{theirs} \
         WHERE f.{mine} = $1 AND u.id < $2 ORDER BY u.id DESC LIMIT $3"
    );
    let rows: Vec<(i64, String, String)> = query_as(&sql)
        .bind(user.as_i64())
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(author).collect())
}

pub async fn profile_counts(db: &Db, user: Id) -> Result<(i64, i64, i64, i64), sqlx::Error> {
    let count = |sql: String| async move {
        let n: i64 = query_scalar(&sql)
            .bind(user.as_i64())
            .fetch_one(db.pool())
            .await?;
        Ok::<i64, sqlx::Error>(n)
    };
    let following = count("SELECT COUNT(*) FROM follows WHERE follower_id = $1".into()).await?;
    let followers = count("SELECT COUNT(*) FROM follows WHERE followee_id = $1".into()).await?;
    let received = count(format!(
        "SELECT CAST(COALESCE(SUM(n.like_count + n.collect_count), 0) AS BIGINT) FROM notes n \
         WHERE n.author_id = $1 AND {PUBLISHED}"
    ))
    .await?;
    let notes = count(format!(
        "SELECT COUNT(*) FROM notes n WHERE n.author_id = $1 AND {PUBLISHED}"
    ))
    .await?;
    Ok((following, followers, received, notes))
}

// Boards and collects.

pub async fn board_by_name(db: &Db, owner: Id, name: &str) -> Result<Option<Id>, sqlx::Error> {
    let id: Option<i64> = query_scalar("SELECT id FROM boards WHERE owner_id = $1 AND name = $2")
        .bind(owner.as_i64())
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    Ok(id.map(Id::from_i64))
}

pub async fn insert_board(
    db: &Db,
    id: Id,
    owner: Id,
    name: &str,
    public: bool,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO boards (id, owner_id, name, public, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_i64())
    .bind(owner.as_i64())
    .bind(name)
    .bind(i64::from(public))
    .bind(Timestamp::now().as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

const BOARD_SELECT: &str = "SELECT b.id, b.owner_id, u.handle, u.display_name, b.name, b.public, b.created_at, \
    (SELECT COUNT(*) FROM collects c WHERE c.board_id = b.id) FROM boards b JOIN users u ON u.id = b.owner_id";

type BoardRow = (i64, i64, String, String, String, i64, i64, i64);

fn to_board(r: BoardRow) -> Board {
    Board {
        id: Id::from_i64(r.0),
        owner: author((r.1, r.2, r.3)),
        name: r.4,
        public: store::flag(r.5),
        created_at: Timestamp::from_millis(r.6),
        note_count: r.7,
    }
}

pub async fn board(db: &Db, id: Id) -> Result<Option<Board>, sqlx::Error> {
    let row: Option<BoardRow> = query_as(&format!("{BOARD_SELECT} WHERE b.id = $1"))
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(to_board))
}

pub async fn boards_of(
    db: &Db,
    owner: Id,
    include_private: bool,
) -> Result<Vec<Board>, sqlx::Error> {
    let filter = if include_private {
        ""
    } else {
        "AND b.public = 1"
    };
    let rows: Vec<BoardRow> = query_as(&format!(
        "{BOARD_SELECT} WHERE b.owner_id = $1 {filter} ORDER BY b.id"
    ))
    .bind(owner.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(to_board).collect())
}

/// Puts the note in the board; true when the user had not collected it before (a move between
/// boards is not a new collect).
pub async fn collect(
    tx: &mut Tx,
    user: Id,
    note: Id,
    board: Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let moved = query("UPDATE collects SET board_id = $1 WHERE user_id = $2 AND note_id = $3")
        .bind(board.as_i64())
        .bind(user.as_i64())
        .bind(note.as_i64())
        .execute(&mut **tx)
        .await?;
    if moved.rows_affected() == 1 {
        return Ok(false);
    }
    let done = query(
        "INSERT INTO collects (user_id, note_id, board_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(user.as_i64())
    .bind(note.as_i64())
    .bind(board.as_i64())
    .bind(now.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Note ids in a board, newest collect first, with the collect time as cursor.
pub async fn board_notes(
    db: &Db,
    board: Id,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    query_as(
        "SELECT note_id, created_at FROM collects WHERE board_id = $1 AND created_at < $2 \
         ORDER BY created_at DESC, note_id DESC LIMIT $3",
    )
    .bind(board.as_i64())
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await
}

// Comments.

type CommentRow = (
    i64,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    String,
    i64,
    i64,
    i64,
);

const COMMENT_SELECT: &str =
    "SELECT c.id, c.note_id, c.author_id, u.handle, u.display_name, c.parent_id, c.body, \
    c.like_count, c.pinned, c.created_at FROM comments c JOIN users u ON u.id = c.author_id";

fn to_comment(r: CommentRow) -> Comment {
    Comment {
        id: Id::from_i64(r.0),
        note_id: Id::from_i64(r.1),
        author: author((r.2, r.3, r.4)),
        parent_id: r.5.map(Id::from_i64),
        body: r.6,
        like_count: r.7,
        liked: false,
        pinned: store::flag(r.8),
        created_at: Timestamp::from_millis(r.9),
        replies: Vec::new(),
    }
}

pub struct NewComment<'a> {
    pub id: Id,
    pub note: Id,
    pub author: Id,
    pub parent: Option<Id>,
    pub body: &'a str,
    pub now: Timestamp,
}

pub async fn insert_comment(tx: &mut Tx, c: &NewComment<'_>) -> Result<(), sqlx::Error> {
    query("INSERT INTO comments (id, note_id, author_id, parent_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(c.id.as_i64())
        .bind(c.note.as_i64())
        .bind(c.author.as_i64())
        .bind(c.parent.map(Id::as_i64))
        .bind(c.body)
        .bind(c.now.as_millis())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn comment(db: &Db, id: Id) -> Result<Option<Comment>, sqlx::Error> {
    let row: Option<CommentRow> = query_as(&format!("{COMMENT_SELECT} WHERE c.id = $1"))
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(to_comment))
}

/// Top-level comments of a note: pinned first, then oldest first, after the cursor id.
pub async fn top_comments(
    db: &Db,
    note: Id,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Comment>, sqlx::Error> {
    let sql = format!(
        "{COMMENT_SELECT} WHERE c.note_id = $1 AND c.parent_id IS NULL AND c.id > $2 \
         ORDER BY c.pinned DESC, c.id LIMIT $3"
    );
    let rows: Vec<CommentRow> = query_as(&sql)
        .bind(note.as_i64())
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(to_comment).collect())
}

pub async fn replies(db: &Db, parent: Id) -> Result<Vec<Comment>, sqlx::Error> {
    let rows: Vec<CommentRow> = query_as(&format!(
        "{COMMENT_SELECT} WHERE c.parent_id = $1 ORDER BY c.id"
    ))
    .bind(parent.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(to_comment).collect())
}

/// Which of these comments the viewer liked.
pub async fn liked_comments(db: &Db, viewer: Id, comments: &[Id]) -> Result<Vec<Id>, sqlx::Error> {
    if comments.is_empty() {
        return Ok(Vec::new());
    }
    // The viewer's id is a number we issued, so it goes into the text; the list is bound.
    let sql = format!(
        "SELECT comment_id FROM comment_likes WHERE user_id = {} AND comment_id IN {}",
        viewer.as_i64(),
        store::values_placeholders(db.backend(), 1, comments.len())
    );
    let mut query = query_scalar::<_, i64>(&sql);
    for comment in comments {
        query = query.bind(comment.as_i64());
    }
    Ok(query
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(Id::from_i64)
        .collect())
}

/// Deletes a comment and its replies; returns how many comments went.
pub async fn delete_comment(tx: &mut Tx, id: Id) -> Result<i64, sqlx::Error> {
    let replies: i64 = query_scalar("SELECT COUNT(*) FROM comments WHERE parent_id = $1")
        .bind(id.as_i64())
        .fetch_one(&mut **tx)
        .await?;
    query("DELETE FROM comments WHERE id = $1")
        .bind(id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(replies + 1)
}

/// Pins one comment of a note, unpinning any other; `None` unpins all.
pub async fn pin(tx: &mut Tx, note: Id, comment: Option<Id>) -> Result<(), sqlx::Error> {
    query("UPDATE comments SET pinned = 0 WHERE note_id = $1 AND pinned = 1")
        .bind(note.as_i64())
        .execute(&mut **tx)
        .await?;
    if let Some(comment) = comment {
        query("UPDATE comments SET pinned = 1 WHERE id = $1")
            .bind(comment.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

// Notifications.

pub struct NewNotification {
    pub id: Id,
    pub recipient: Id,
    pub kind: NotificationKind,
    pub actor: Id,
    pub note: Option<Id>,
    pub comment: Option<Id>,
    pub order: Option<Id>,
    pub now: Timestamp,
}

/// Notifications written by one statement at most.
const NOTIFY_AT_ONCE: usize = 100;

/// Tells members what someone did, unless a block stands between the two (either way): a
/// blocked member's actions never reach the blocker, whatever the path. Nothing is written
/// when the note or comment is gone by the time the notification is made. Up to
/// [`NOTIFY_AT_ONCE`] rows a statement.
pub async fn notify_all(tx: &mut Tx, all: &[NewNotification]) -> Result<(), sqlx::Error> {
    for some in all.chunks(NOTIFY_AT_ONCE) {
        let rows = (0..some.len())
            .map(|i| {
                let p = |k: usize| format!("${}", i * 8 + k);
                format!(
                    "(CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS TEXT), CAST({} AS BIGINT), \
                     CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
                    p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "WITH v (id, recipient_id, kind, actor_id, note_id, comment_id, order_id, created_at) \
             AS (VALUES {rows}) \
             INSERT INTO notifications \
             (id, recipient_id, kind, actor_id, note_id, comment_id, order_id, created_at) \
             SELECT id, recipient_id, kind, actor_id, note_id, comment_id, order_id, created_at \
             FROM v \
             WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE \
             (b.blocker_id = v.recipient_id AND b.blocked_id = v.actor_id) \
             OR (b.blocker_id = v.actor_id AND b.blocked_id = v.recipient_id)) \
             AND (v.note_id IS NULL OR EXISTS (SELECT 1 FROM notes n WHERE n.id = v.note_id)) \
             AND (v.comment_id IS NULL \
             OR EXISTS (SELECT 1 FROM comments c WHERE c.id = v.comment_id))"
        );
        let mut insert = query(&sql);
        for n in some {
            insert = insert
                .bind(n.id.as_i64())
                .bind(n.recipient.as_i64())
                .bind(n.kind.as_str())
                .bind(n.actor.as_i64())
                .bind(n.note.map(Id::as_i64))
                .bind(n.comment.map(Id::as_i64))
                .bind(n.order.map(Id::as_i64))
                .bind(n.now.as_millis());
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Takes back the notification of an undone like, collect or follow.
pub async fn unnotify(
    tx: &mut Tx,
    kind: NotificationKind,
    actor: Id,
    recipient: Id,
    note: Option<Id>,
) -> Result<(), sqlx::Error> {
    query(
        "DELETE FROM notifications WHERE kind = $1 AND actor_id = $2 AND recipient_id = $3 \
         AND COALESCE(note_id, 0) = $4",
    )
    .bind(kind.as_str())
    .bind(actor.as_i64())
    .bind(recipient.as_i64())
    .bind(note.map_or(0, Id::as_i64))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A notification with what the list shows of it.
pub struct NotificationRow {
    pub id: i64,
    pub kind: NotificationKind,
    pub actor: Author,
    pub note: Option<(Id, String)>,
    pub comment: Option<(Id, String)>,
    pub order: Option<Id>,
    pub unread: bool,
    pub created_at: Timestamp,
}

type NotificationTuple = (
    i64,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

/// Newest first, before the cursor id; notifications from muted or blocked people are left out.
pub async fn notifications(
    db: &Db,
    recipient: Id,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let rows: Vec<NotificationTuple> = query_as(
        "SELECT n.id, n.kind, u.id, u.handle, u.display_name, n.note_id, nt.title, n.comment_id, c.body, n.read_at, n.created_at, n.order_id \
         FROM notifications n JOIN users u ON u.id = n.actor_id \
         LEFT JOIN notes nt ON nt.id = n.note_id LEFT JOIN comments c ON c.id = n.comment_id \
         WHERE n.recipient_id = $1 AND n.id < $2 \
           AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = $1 AND m.muted_id = n.actor_id) \
           AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = n.actor_id) \
         ORDER BY n.id DESC LIMIT $3",
    )
    .bind(recipient.as_i64())
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(NotificationRow {
                id: r.0,
                kind: NotificationKind::from_db(&r.1)?,
                actor: author((r.2, r.3, r.4)),
                note: r.5.map(|id| (Id::from_i64(id), r.6.unwrap_or_default())),
                comment: r.7.map(|id| (Id::from_i64(id), r.8.unwrap_or_default())),
                unread: r.9.is_none(),
                created_at: Timestamp::from_millis(r.10),
                order: r.11.map(Id::from_i64),
            })
        })
        .collect()
}

pub async fn unread_count(db: &Db, recipient: Id) -> Result<i64, sqlx::Error> {
    query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL")
        .bind(recipient.as_i64())
        .fetch_one(db.pool())
        .await
}

pub async fn mark_read(db: &Db, recipient: Id) -> Result<(), sqlx::Error> {
    query("UPDATE notifications SET read_at = $1 WHERE recipient_id = $2 AND read_at IS NULL")
        .bind(Timestamp::now().as_millis())
        .bind(recipient.as_i64())
        .execute(db.writer())
        .await?;
    Ok(())
}

pub struct NewReport<'a> {
    pub id: Id,
    pub reporter: Id,
    pub target_kind: &'a str,
    pub target_id: Id,
    pub reason: &'a str,
    pub detail: &'a str,
}

pub async fn insert_report(db: &Db, r: &NewReport<'_>) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO reports (id, reporter_id, target_kind, target_id, reason, detail, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)",
    )
    .bind(r.id.as_i64())
    .bind(r.reporter.as_i64())
    .bind(r.target_kind)
    .bind(r.target_id.as_i64())
    .bind(r.reason)
    .bind(r.detail)
    .bind(Timestamp::now().as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}
