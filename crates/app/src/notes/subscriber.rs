//! The note cache follows the change log on every node: it forgets a note when the note, its
//! counts or its author's profile change, wherever the change was made.

use std::time::Duration;

use crate::changes::service::NodeSubscriber;
use crate::changes::store as log;
use crate::changes::types::{Change, Entry, Position};
use crate::state::AppState;

pub struct NoteCacheFollower;

impl NodeSubscriber for NoteCacheFollower {
    const NAME: &'static str = "note_cache";
    const GATHER: Duration = Duration::from_millis(20);

    async fn start(&mut self, state: &AppState) -> anyhow::Result<Position> {
        let head = log::head(&state.db).await?;
        state.note_cache.forget_all();
        Ok(head)
    }

    async fn apply(&mut self, state: &AppState, entry: &Entry) -> anyhow::Result<()> {
        let cache = &state.note_cache;
        match &entry.change {
            Change::NotePublished { note, .. }
            | Change::NoteEdited { note, .. }
            | Change::NoteDeleted { note, .. }
            | Change::Liked { note, .. }
            | Change::Unliked { note, .. }
            | Change::Collected { note, .. }
            | Change::Uncollected { note, .. }
            | Change::Commented { note, .. }
            | Change::CommentDeleted { note, .. } => cache.forget_note(*note),
            Change::ProfileChanged { member } => cache.forget_author(*member),
            Change::AccountDeleted { member, touched } => {
                cache.forget_author(*member);
                for note in touched {
                    cache.forget_note(*note);
                }
            }
            Change::Followed { .. }
            | Change::Unfollowed { .. }
            | Change::Blocked { .. }
            | Change::Unblocked { .. }
            | Change::Muted { .. }
            | Change::Unmuted { .. }
            | Change::MemberJoined { .. }
            | Change::CardEvents { .. }
            | Change::PersonalisationSet { .. }
            | Change::InterestForgotten { .. }
            | Change::OrderMoved { .. }
            | Change::PaymentSucceeded { .. }
            | Change::PaymentFailed { .. }
            | Change::PaymentRefunded { .. }
            | Change::Reviewed { .. }
            | Change::AfterSaleAsked { .. }
            | Change::AfterSaleAnswered { .. }
            | Change::ProductChanged { .. }
            | Change::StoreChanged { .. } => {}
        }
        Ok(())
    }
}
