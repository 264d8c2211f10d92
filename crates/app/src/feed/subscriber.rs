//! The feed engine follows the change log on every node: what members publish, like, collect,
//! comment on, follow, block and mute, and what their apps report, reaches the engine of every
//! node through the log.
//!
//! The engine is built from the tables at start, from the log's head as it stood before the
//! build: a signal recorded during the build can count twice, which only nudges a ranking;
//! follows, blocks and notes are applied as states and cannot double.

use std::time::Duration;

use feed::Signal;
use kernel::Id;

use super::{service, store};
use crate::changes::service::NodeSubscriber;
use crate::changes::store as log;
use crate::changes::types::{Change, Entry, Position};
use crate::state::AppState;

pub struct FeedFollower;

impl NodeSubscriber for FeedFollower {
    const NAME: &'static str = "feed";
    const GATHER: Duration = Duration::from_millis(20);

    async fn start(&mut self, state: &AppState) -> anyhow::Result<Position> {
        let head = log::head(&state.db).await?;
        service::load(state).await?;
        Ok(head)
    }

    async fn apply(&mut self, state: &AppState, entry: &Entry) -> anyhow::Result<()> {
        let feed = &state.feed;
        let at = entry.at_ms;
        match &entry.change {
            Change::NotePublished { note, .. } | Change::NoteEdited { note, .. } => {
                // The engine holds a note exactly when it is public.
                match store::note_info(&state.db, note.as_i64()).await? {
                    Some((info, topics)) => feed.hold_note(info, topics),
                    None => feed.remove_note(*note),
                }
            }
            Change::NoteDeleted { note, .. } => feed.remove_note(*note),
            Change::Liked { member, note, .. } => feed.signal(*member, *note, Signal::Like, at),
            Change::Collected { member, note, .. } => {
                feed.signal(*member, *note, Signal::Collect, at)
            }
            Change::Commented {
                commenter, note, ..
            } => feed.signal(*commenter, *note, Signal::Comment, at),
            Change::Followed { follower, followee } => feed.set_follow(*follower, *followee, true),
            Change::Unfollowed { follower, followee } => {
                feed.set_follow(*follower, *followee, false)
            }
            Change::Blocked { blocker, blocked } => {
                feed.set_follow(*blocker, *blocked, false);
                feed.set_follow(*blocked, *blocker, false);
                feed.set_hidden(*blocker, *blocked, true, true);
            }
            Change::Unblocked { blocker, blocked } => {
                feed.set_hidden(*blocker, *blocked, false, true)
            }
            Change::Muted { muter, muted } => feed.set_hidden(*muter, *muted, true, false),
            Change::Unmuted { muter, muted } => feed.set_hidden(*muter, *muted, false, false),
            Change::CardEvents {
                reader,
                at_ms,
                events,
            } => learn(state, *reader, *at_ms, events),
            Change::PersonalisationSet {
                reader,
                personalised,
            } => feed.set_personalised(*reader, *personalised),
            Change::InterestForgotten {
                reader,
                topic,
                at_ms,
            } => feed.forget_interest(*reader, *topic, *at_ms),
            Change::Unliked { .. }
            | Change::Uncollected { .. }
            | Change::CommentDeleted { .. }
            | Change::MemberJoined { .. }
            | Change::ProfileChanged { .. }
            | Change::AccountDeleted { .. }
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

fn learn(state: &AppState, reader: Id, at_ms: i64, events: &[(Id, super::types::EventKind)]) {
    for (note, kind) in events {
        state.feed.signal(reader, *note, kind.signal(), at_ms);
    }
}
