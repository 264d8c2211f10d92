//! Notifications follow the change log once per cluster: a like, collect, comment, reply,
//! mention or follow becomes a notification (and an undone one takes it back) in the same
//! transaction that moves the subscriber's position, so each is made exactly once — however
//! often a node crashes, and however many nodes run — and never fails the request behind it.

use ::store::Tx;
use kernel::{Id, Timestamp};

use super::store::{self, NewNotification};
use super::types::NotificationKind;
use crate::accounts::service::user_by_handle;
use crate::changes::service::ClusterSubscriber;
use crate::changes::types::{Change, Entry};
use crate::error::AppError;
use crate::notes::types::mentions;
use crate::state::AppState;

pub struct Notifications;

impl ClusterSubscriber for Notifications {
    const NAME: &'static str = "notifications";

    fn wants(&self, change: &Change) -> bool {
        matches!(
            change,
            Change::Followed { .. }
                | Change::Unfollowed { .. }
                | Change::Liked { .. }
                | Change::Unliked { .. }
                | Change::Collected { .. }
                | Change::Uncollected { .. }
                | Change::Commented { .. }
                | Change::NotePublished { .. }
        )
    }

    async fn apply(&self, state: &AppState, tx: &mut Tx, entry: &Entry) -> anyhow::Result<()> {
        let tell = Teller {
            state,
            at: Timestamp::from_millis(entry.at_ms),
        };
        match &entry.change {
            Change::Followed { follower, followee } => {
                tell.notify(
                    tx,
                    *followee,
                    NotificationKind::Follow,
                    *follower,
                    None,
                    None,
                )
                .await?
            }
            Change::Unfollowed { follower, followee } => {
                store::unnotify(tx, NotificationKind::Follow, *follower, *followee, None).await?
            }
            Change::Liked {
                member,
                note,
                author,
            } => {
                tell.notify(
                    tx,
                    *author,
                    NotificationKind::Like,
                    *member,
                    Some(*note),
                    None,
                )
                .await?
            }
            Change::Collected {
                member,
                note,
                author,
            } => {
                let kind = NotificationKind::Collect;
                tell.notify(tx, *author, kind, *member, Some(*note), None)
                    .await?
            }
            Change::Unliked {
                member,
                note,
                author,
            } => store::unnotify(tx, NotificationKind::Like, *member, *author, Some(*note)).await?,
            Change::Uncollected {
                member,
                note,
                author,
            } => {
                let kind = NotificationKind::Collect;
                store::unnotify(tx, kind, *member, *author, Some(*note)).await?
            }
            Change::Commented {
                comment,
                note,
                commenter,
                note_author,
                replied_to,
            } => {
                tell.comment(tx, *comment, *note, *commenter, *note_author, *replied_to)
                    .await?
            }
            Change::NotePublished { note, author } => {
                match crate::notes::service::get(state, None, *note).await {
                    Ok(public) => {
                        tell.mentions(tx, &public.body, *author, *note, None)
                            .await?
                    }
                    // Hidden or deleted again since: nobody is told.
                    Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Change::NoteEdited { .. }
            | Change::NoteDeleted { .. }
            | Change::CommentDeleted { .. }
            | Change::Blocked { .. }
            | Change::Unblocked { .. }
            | Change::Muted { .. }
            | Change::Unmuted { .. }
            | Change::MemberJoined { .. }
            | Change::ProfileChanged { .. }
            | Change::AccountDeleted { .. }
            | Change::CardEvents { .. }
            | Change::PersonalisationSet { .. }
            | Change::InterestForgotten { .. }
            | Change::OrderMoved { .. }
            | Change::PaymentSucceeded { .. }
            | Change::PaymentFailed { .. }
            | Change::PaymentRefunded { .. }
            | Change::Reviewed { .. } => {}
        }
        Ok(())
    }
}

/// Writes notifications dated when their cause was recorded.
struct Teller<'a> {
    state: &'a AppState,
    at: Timestamp,
}

impl Teller<'_> {
    /// One notification; nobody is told about what they did themselves.
    async fn notify(
        &self,
        tx: &mut Tx,
        recipient: Id,
        kind: NotificationKind,
        actor: Id,
        note: Option<Id>,
        comment: Option<Id>,
    ) -> Result<(), sqlx::Error> {
        if recipient == actor {
            return Ok(());
        }
        let notification = NewNotification {
            id: self.state.ids.next_id(),
            recipient,
            kind,
            actor,
            note,
            comment,
            now: self.at,
        };
        store::notify(tx, &notification).await
    }

    /// The replied-to commenter hears of a reply, the note's author of a comment (once, if they
    /// are the same person), and everyone named with `@` of the mention.
    async fn comment(
        &self,
        tx: &mut Tx,
        comment: Id,
        note: Id,
        commenter: Id,
        note_author: Id,
        replied_to: Option<Id>,
    ) -> anyhow::Result<()> {
        let on = (Some(note), Some(comment));
        if let Some(parent_author) = replied_to {
            let kind = NotificationKind::Reply;
            self.notify(tx, parent_author, kind, commenter, on.0, on.1)
                .await?;
        }
        if replied_to != Some(note_author) {
            let kind = NotificationKind::Comment;
            self.notify(tx, note_author, kind, commenter, on.0, on.1)
                .await?;
        }
        if let Some(row) = store::comment(&self.state.db, comment).await? {
            self.mentions(tx, &row.body, commenter, note, Some(comment))
                .await?;
        }
        Ok(())
    }

    /// Each existing member named with `@` in `text` is told they were mentioned.
    async fn mentions(
        &self,
        tx: &mut Tx,
        text: &str,
        actor: Id,
        note: Id,
        comment: Option<Id>,
    ) -> Result<(), sqlx::Error> {
        for handle in mentions(text) {
            let Ok(named) = user_by_handle(self.state, &handle).await else {
                continue;
            };
            self.notify(
                tx,
                named.id,
                NotificationKind::Mention,
                actor,
                Some(note),
                comment,
            )
            .await?;
        }
        Ok(())
    }
}
