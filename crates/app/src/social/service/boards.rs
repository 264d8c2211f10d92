//! Boards: the collections a member collects notes into.

use super::*;

pub(super) async fn default_board(state: &AppState, owner: &User) -> AppResult<Id> {
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
