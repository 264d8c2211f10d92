//! Follows, blocks and mutes between members.

use super::*;

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

/// Blocks someone, or unblocks them if they were blocked.
pub async fn toggle_block(state: &AppState, actor: &User, handle: &str) -> AppResult<()> {
    let other = user_by_handle(state, handle).await?;
    let blocked = store::related(&state.db, BLOCKS.0, BLOCKS.1, (actor.id, other.id)).await?;
    set_block(state, actor, handle, !blocked).await
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
