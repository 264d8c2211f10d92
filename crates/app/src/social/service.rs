//! The rules of the social graph.

use ::store::Tx;
use kernel::{Id, Page, PageRequest, Timestamp};

use super::store::{self, NewComment, NewReport};
use super::types::{
    Board, Comment, NotificationGroup, ProfileStats, ReportReason, ReportTarget, DEFAULT_BOARD,
    MAX_BOARD_NAME, MAX_COMMENT,
};
use crate::accounts::service::{blocked, user_by_handle};
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::notes::types::{parse_text, Author, Note};
use crate::state::AppState;
use crate::web::page_bounds;

const LIKES: (&str, (&str, &str)) = ("likes", ("user_id", "note_id"));
const FOLLOWS: (&str, (&str, &str)) = ("follows", ("follower_id", "followee_id"));
const BLOCKS: (&str, (&str, &str)) = ("blocks", ("blocker_id", "blocked_id"));
const MUTES: (&str, (&str, &str)) = ("mutes", ("muter_id", "muted_id"));
const COMMENT_LIKES: (&str, (&str, &str)) = ("comment_likes", ("user_id", "comment_id"));

pub async fn follow(state: &AppState, actor: &User, handle: &str) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    if other.id == actor.id {
        return Err(AppError::invalid("handle", "you cannot follow yourself"));
    }
    if blocked(state, actor.id, other.id).await? {
        return Err(AppError::Forbidden(
            "a block stands between you and this member",
        ));
    }
    let mut tx = state.db.begin_write().await?;
    let pair = (actor.id, other.id);
    if store::relate(&mut tx, FOLLOWS.0, FOLLOWS.1, pair, Timestamp::now()).await? {
        let change = Change::Followed {
            follower: actor.id,
            followee: other.id,
        };
        state.changes.record(&mut tx, change).await?;
    }
    state.changes.commit(tx).await?;
    Ok(())
}

pub async fn unfollow(state: &AppState, actor: &User, handle: &str) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    let mut tx = state.db.begin_write().await?;
    if store::unrelate(&mut tx, FOLLOWS.0, FOLLOWS.1, (actor.id, other.id)).await? {
        let change = Change::Unfollowed {
            follower: actor.id,
            followee: other.id,
        };
        state.changes.record(&mut tx, change).await?;
    }
    state.changes.commit(tx).await?;
    Ok(())
}

pub async fn is_following(state: &AppState, actor: &User, other: Id) -> AppResult<bool> {
    Ok(store::related(&state.db, FOLLOWS.0, FOLLOWS.1, (actor.id, other)).await?)
}

/// A member's followers (`followers = true`) or the people they follow.
pub async fn follow_list(
    state: &AppState,
    handle: &str,
    followers: bool,
    page: &PageRequest,
) -> AppResult<Page<Author>> {
    let user = user_by_handle(state, handle).await?;
    let (size, before) = page_bounds(page)?;
    let rows = store::follow_list(&state.db, user.id, followers, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |a| a.id.as_i64()))
}

pub async fn profile_stats(state: &AppState, user: &User) -> AppResult<ProfileStats> {
    let (following, followers, likes_and_collects, notes) =
        store::profile_counts(&state.db, user.id).await?;
    Ok(ProfileStats {
        following,
        followers,
        likes_and_collects,
        notes,
    })
}

/// After a like or collect was added (or taken back): the note's counter moves and the change
/// is recorded, inside the same transaction.
async fn counted(
    tx: &mut Tx,
    state: &AppState,
    actor: &User,
    note: &Note,
    mark: Mark,
    added: bool,
) -> AppResult<()> {
    let counter = match mark {
        Mark::Like => "like_count",
        Mark::Collect => "collect_count",
    };
    store::bump(tx, "notes", counter, note.id, if added { 1 } else { -1 }).await?;
    let (member, author) = (actor.id, note.author.id);
    let note = note.id;
    let change = match (mark, added) {
        (Mark::Like, true) => Change::Liked {
            member,
            note,
            author,
        },
        (Mark::Like, false) => Change::Unliked {
            member,
            note,
            author,
        },
        (Mark::Collect, true) => Change::Collected {
            member,
            note,
            author,
        },
        (Mark::Collect, false) => Change::Uncollected {
            member,
            note,
            author,
        },
    };
    state.changes.record(tx, change).await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Mark {
    Like,
    Collect,
}

/// Likes a note (`on`) or takes the like back; doing either twice is a no-op. Returns the count.
pub async fn set_like(state: &AppState, actor: &User, note: Id, on: bool) -> AppResult<i64> {
    let note = notes::get(state, Some(actor), note).await?;
    let mut tx = state.db.begin_write().await?;
    let changed = if on {
        store::relate(
            &mut tx,
            LIKES.0,
            LIKES.1,
            (actor.id, note.id),
            Timestamp::now(),
        )
        .await?
    } else {
        store::unrelate(&mut tx, LIKES.0, LIKES.1, (actor.id, note.id)).await?
    };
    if changed {
        counted(&mut tx, state, actor, &note, Mark::Like, on).await?;
    }
    state.changes.commit(tx).await?;
    Ok(store::counter(&state.db, "notes", "like_count", note.id).await?)
}

/// Collects a note into one of the actor's boards (the default board when none is named),
/// or moves it there. Returns the collect count.
pub async fn collect(
    state: &AppState,
    actor: &User,
    note: Id,
    board: Option<Id>,
) -> AppResult<i64> {
    let note = notes::get(state, Some(actor), note).await?;
    let board = match board {
        Some(id) => {
            let board = store::board(&state.db, id)
                .await?
                .ok_or(AppError::NotFound("board"))?;
            if board.owner.id != actor.id {
                return Err(AppError::Forbidden(
                    "you can only collect into your own boards",
                ));
            }
            board.id
        }
        None => default_board(state, actor).await?,
    };
    let mut tx = state.db.begin_write().await?;
    if store::collect(&mut tx, actor.id, note.id, board, Timestamp::now()).await? {
        counted(&mut tx, state, actor, &note, Mark::Collect, true).await?;
    }
    state.changes.commit(tx).await?;
    Ok(store::counter(&state.db, "notes", "collect_count", note.id).await?)
}

pub async fn uncollect(state: &AppState, actor: &User, note: Id) -> AppResult<i64> {
    let note = notes::get(state, Some(actor), note).await?;
    let mut tx = state.db.begin_write().await?;
    if store::unrelate(
        &mut tx,
        "collects",
        ("user_id", "note_id"),
        (actor.id, note.id),
    )
    .await?
    {
        counted(&mut tx, state, actor, &note, Mark::Collect, false).await?;
    }
    state.changes.commit(tx).await?;
    Ok(store::counter(&state.db, "notes", "collect_count", note.id).await?)
}

async fn default_board(state: &AppState, owner: &User) -> AppResult<Id> {
    if let Some(id) = store::board_by_name(&state.db, owner.id, DEFAULT_BOARD).await? {
        return Ok(id);
    }
    let id = state.ids.next_id();
    match store::insert_board(&state.db, id, owner.id, DEFAULT_BOARD, false).await {
        Ok(()) => Ok(id),
        // Made at the same moment by another request: use that one.
        Err(e) if ::store::is_unique_violation(&e) => {
            store::board_by_name(&state.db, owner.id, DEFAULT_BOARD)
                .await?
                .ok_or(AppError::NotFound("board"))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_board(
    state: &AppState,
    owner: &User,
    name: &str,
    public: bool,
) -> AppResult<Board> {
    let name = parse_text("name", name, MAX_BOARD_NAME, true)?;
    let id = state.ids.next_id();
    store::insert_board(&state.db, id, owner.id, &name, public)
        .await
        .map_err(AppError::taken(
            "name",
            "you already have a board of this name",
        ))?;
    store::board(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("board"))
}

/// A member's boards: all of them for the owner, the public ones for others.
pub async fn boards(
    state: &AppState,
    viewer: Option<&User>,
    owner: &User,
) -> AppResult<Vec<Board>> {
    let own = viewer.is_some_and(|v| v.id == owner.id);
    Ok(store::boards_of(&state.db, owner.id, own).await?)
}

/// A board and a page of its notes; private boards only for their owner.
pub async fn board_notes(
    state: &AppState,
    viewer: Option<&User>,
    board: Id,
    page: &PageRequest,
) -> AppResult<(Board, Page<Note>)> {
    let board = store::board(&state.db, board)
        .await?
        .ok_or(AppError::NotFound("board"))?;
    if !board.public && viewer.is_none_or(|v| v.id != board.owner.id) {
        return Err(AppError::NotFound("board"));
    }
    let (size, before) = page_bounds(page)?;
    let rows = store::board_notes(&state.db, board.id, before, size + 1).await?;
    let more = rows.len() > size as usize;
    let keys: Vec<(i64, i64)> = rows.into_iter().take(size as usize).collect();
    let ids: Vec<i64> = keys.iter().map(|(id, _)| *id).collect();
    let notes = notes::public(state, viewer, &ids).await?;
    let next_cursor = more.then(|| kernel::Cursor(keys.last().map_or(0, |k| k.1)).encode());
    Ok((
        board,
        Page {
            items: notes,
            next_cursor,
        },
    ))
}

pub async fn comment(
    state: &AppState,
    actor: &User,
    note: Id,
    body: &str,
    parent: Option<Id>,
) -> AppResult<Comment> {
    let note = notes::get(state, Some(actor), note).await?;
    let body = parse_text("body", body, MAX_COMMENT, true)?;
    let parent = match parent {
        Some(id) => {
            let parent = store::comment(&state.db, id)
                .await?
                .filter(|c| c.note_id == note.id);
            let parent = parent
                .ok_or_else(|| AppError::invalid("parent_id", "is not a comment on this note"))?;
            if blocked(state, actor.id, parent.author.id).await? {
                return Err(AppError::Forbidden(
                    "a block stands between you and this comment's author",
                ));
            }
            Some(parent)
        }
        None => None,
    };
    // Replies go one level deep: a reply to a reply joins the same thread.
    let root = parent.as_ref().map(|p| p.parent_id.unwrap_or(p.id));
    let id = state.ids.next_id();
    let mut tx = state.db.begin_write().await?;
    let new = NewComment {
        id,
        note: note.id,
        author: actor.id,
        parent: root,
        body: &body,
        now: Timestamp::now(),
    };
    store::insert_comment(&mut tx, &new).await?;
    store::bump(&mut tx, "notes", "comment_count", note.id, 1).await?;
    let change = Change::Commented {
        comment: id,
        note: note.id,
        commenter: actor.id,
        note_author: note.author.id,
        replied_to: parent.map(|p| p.author.id),
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    store::comment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("comment"))
}

/// A page of a note's top-level comments, each with its replies; the pinned one comes first.
pub async fn comments(
    state: &AppState,
    viewer: Option<&User>,
    note: Id,
    page: &PageRequest,
) -> AppResult<Page<Comment>> {
    let note = notes::get(state, viewer, note).await?;
    let (size, after) = page_bounds(page)?;
    let mut rows = store::top_comments(&state.db, note.id, after, size + 1).await?;
    if after.is_some() {
        rows.retain(|c| !c.pinned);
    }
    let mut page = Page::from_rows(rows, size, |c| c.id.as_i64());
    for comment in &mut page.items {
        comment.replies = store::replies(&state.db, comment.id).await?;
    }
    if let Some(viewer) = viewer {
        let shown: Vec<Id> = page
            .items
            .iter()
            .flat_map(|c| std::iter::once(c.id).chain(c.replies.iter().map(|r| r.id)))
            .collect();
        let liked = store::liked_comments(&state.db, viewer.id, &shown).await?;
        for comment in &mut page.items {
            comment.liked = liked.contains(&comment.id);
            for reply in &mut comment.replies {
                reply.liked = liked.contains(&reply.id);
            }
        }
    }
    Ok(page)
}

/// The comment, if the viewer may see the note it is on.
async fn visible_comment(state: &AppState, viewer: &User, id: Id) -> AppResult<(Comment, Note)> {
    let comment = store::comment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    let note = notes::get(state, Some(viewer), comment.note_id).await?;
    Ok((comment, note))
}

pub async fn like_comment(state: &AppState, actor: &User, id: Id, liked: bool) -> AppResult<i64> {
    let (comment, _) = visible_comment(state, actor, id).await?;
    let mut tx = state.db.begin_write().await?;
    let changed = if liked {
        store::relate(
            &mut tx,
            COMMENT_LIKES.0,
            COMMENT_LIKES.1,
            (actor.id, comment.id),
            Timestamp::now(),
        )
        .await?
    } else {
        store::unrelate(
            &mut tx,
            COMMENT_LIKES.0,
            COMMENT_LIKES.1,
            (actor.id, comment.id),
        )
        .await?
    };
    if changed {
        store::bump(
            &mut tx,
            "comments",
            "like_count",
            comment.id,
            if liked { 1 } else { -1 },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(store::counter(&state.db, "comments", "like_count", comment.id).await?)
}

/// Likes the comment, or takes the like back if there was one; returns the comment.
pub async fn toggle_comment_like(state: &AppState, actor: &User, id: Id) -> AppResult<Comment> {
    let liked = store::related(&state.db, COMMENT_LIKES.0, COMMENT_LIKES.1, (actor.id, id)).await?;
    like_comment(state, actor, id, !liked).await?;
    store::comment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("comment"))
}

/// Blocks someone, or unblocks them if they were blocked.
pub async fn toggle_block(state: &AppState, actor: &User, handle: &str) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    let blocked = store::related(&state.db, BLOCKS.0, BLOCKS.1, (actor.id, other.id)).await?;
    set_block(state, actor, handle, !blocked).await
}

/// Commenters delete their own comments; a note's author (or an administrator) any on the note.
pub async fn delete_comment(state: &AppState, actor: &User, id: Id) -> AppResult<()> {
    let (comment, note) = visible_comment(state, actor, id).await?;
    if comment.author.id != actor.id && note.author.id != actor.id && !actor.is_admin() {
        return Err(AppError::Forbidden(
            "only the commenter or the note's author may delete a comment",
        ));
    }
    let mut tx = state.db.begin_write().await?;
    let removed = store::delete_comment(&mut tx, comment.id).await?;
    store::bump(&mut tx, "notes", "comment_count", note.id, -removed).await?;
    let change = Change::CommentDeleted {
        comment: comment.id,
        note: note.id,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

/// The note's author pins one top-level comment (or unpins it).
pub async fn pin_comment(state: &AppState, actor: &User, id: Id, pinned: bool) -> AppResult<()> {
    let (comment, note) = visible_comment(state, actor, id).await?;
    if note.author.id != actor.id {
        return Err(AppError::Forbidden(
            "only the note's author may pin comments",
        ));
    }
    if comment.parent_id.is_some() {
        return Err(AppError::invalid("comment", "replies cannot be pinned"));
    }
    let mut tx = state.db.begin_write().await?;
    store::pin(&mut tx, note.id, pinned.then_some(comment.id)).await?;
    tx.commit().await?;
    Ok(())
}

/// Blocking someone also ends follows both ways.
pub async fn set_block(
    state: &AppState,
    actor: &User,
    handle: &str,
    blocked: bool,
) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    if other.id == actor.id {
        return Err(AppError::invalid("handle", "you cannot block yourself"));
    }
    let mut tx = state.db.begin_write().await?;
    if blocked {
        store::relate(
            &mut tx,
            BLOCKS.0,
            BLOCKS.1,
            (actor.id, other.id),
            Timestamp::now(),
        )
        .await?;
        store::sever(&mut tx, actor.id, other.id).await?;
    } else {
        store::unrelate(&mut tx, BLOCKS.0, BLOCKS.1, (actor.id, other.id)).await?;
    }
    let (blocker, blocked_member) = (actor.id, other.id);
    let change = if blocked {
        Change::Blocked {
            blocker,
            blocked: blocked_member,
        }
    } else {
        Change::Unblocked {
            blocker,
            blocked: blocked_member,
        }
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

/// Muting hides someone's notifications (and, with the feed, their notes) without telling them.
pub async fn set_mute(state: &AppState, actor: &User, handle: &str, muted: bool) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    if other.id == actor.id {
        return Err(AppError::invalid("handle", "you cannot mute yourself"));
    }
    let mut tx = state.db.begin_write().await?;
    if muted {
        store::relate(
            &mut tx,
            MUTES.0,
            MUTES.1,
            (actor.id, other.id),
            Timestamp::now(),
        )
        .await?;
    } else {
        store::unrelate(&mut tx, MUTES.0, MUTES.1, (actor.id, other.id)).await?;
    }
    let (muter, muted_member) = (actor.id, other.id);
    let change = if muted {
        Change::Muted {
            muter,
            muted: muted_member,
        }
    } else {
        Change::Unmuted {
            muter,
            muted: muted_member,
        }
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

/// Files a report for moderators about a note, comment or member the reporter can see.
pub async fn report(
    state: &AppState,
    actor: &User,
    target: ReportTarget,
    id: Id,
    reason: ReportReason,
    detail: &str,
) -> AppResult<Id> {
    let detail = parse_text("detail", detail, MAX_COMMENT, false)?;
    match target {
        ReportTarget::Note => drop(notes::get(state, Some(actor), id).await?),
        ReportTarget::Comment => drop(visible_comment(state, actor, id).await?),
        ReportTarget::User => {
            crate::accounts::store::user_by_id(&state.db, id)
                .await?
                .ok_or(AppError::NotFound("user"))?;
        }
    }
    let report_id = state.ids.next_id();
    let report = NewReport {
        id: report_id,
        reporter: actor.id,
        target_kind: target.as_str(),
        target_id: id,
        reason: reason.as_str(),
        detail: &detail,
    };
    store::insert_report(&state.db, &report).await?;
    Ok(report_id)
}

/// A page of notifications, newest first, with likes, collects and follows of the same thing
/// grouped into one line.
pub async fn notifications(
    state: &AppState,
    user: &User,
    page: &PageRequest,
) -> AppResult<Page<NotificationGroup>> {
    let (size, before) = page_bounds(page)?;
    let rows = store::notifications(&state.db, user.id, before, size + 1).await?;
    let more = rows.len() > size as usize;
    let rows: Vec<_> = rows.into_iter().take(size as usize).collect();
    let next_cursor = more.then(|| kernel::Cursor(rows.last().map_or(0, |r| r.id)).encode());
    let mut groups: Vec<NotificationGroup> = Vec::new();
    for row in rows {
        let note_id = row.note.as_ref().map(|n| n.0);
        if let Some(last) = groups
            .last_mut()
            .filter(|g| g.kind == row.kind && row.kind.groups() && g.note_id == note_id)
        {
            last.count += 1;
            last.unread |= row.unread;
            if last.actors.len() < 3 && !last.actors.iter().any(|a| a.id == row.actor.id) {
                last.actors.push(row.actor);
            }
            continue;
        }
        groups.push(NotificationGroup {
            kind: row.kind,
            actors: vec![row.actor],
            count: 1,
            note_id,
            note_title: row.note.map(|n| n.1),
            comment_id: row.comment.as_ref().map(|c| c.0),
            excerpt: row.comment.map(|c| c.1),
            unread: row.unread,
            latest_at: row.created_at,
        });
    }
    Ok(Page {
        items: groups,
        next_cursor,
    })
}

pub async fn unread_count(state: &AppState, user: &User) -> AppResult<i64> {
    Ok(store::unread_count(&state.db, user.id).await?)
}

pub async fn mark_read(state: &AppState, user: &User) -> AppResult<()> {
    Ok(store::mark_read(&state.db, user.id).await?)
}
