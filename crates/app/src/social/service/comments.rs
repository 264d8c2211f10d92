//! Comments on notes, one level of replies, their likes and the author's pin.

use super::*;

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
pub(super) async fn visible_comment(
    state: &AppState,
    viewer: &User,
    id: Id,
) -> AppResult<(Comment, Note)> {
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
