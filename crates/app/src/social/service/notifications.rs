//! A member's notifications, grouped for reading (made by [`crate::social::subscriber`]).

use super::*;

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
            order_id: row.order,
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
