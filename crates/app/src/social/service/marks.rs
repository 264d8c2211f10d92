//! Likes and collects of notes.

use super::*;

/// After a like or collect was added (or taken back): the note's counter moves and the change
/// is recorded, inside the same transaction.
pub(super) async fn counted(
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
pub(super) enum Mark {
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
