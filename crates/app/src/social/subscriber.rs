//! Notifications follow the change log once per cluster: a like, collect, comment, reply,
//! mention or follow, and an order's news (paid, shipped, an after-sales request and its answer,
//! a creator's commission) becomes a notification (and an undone one takes it back) in the same
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
use crate::orders::store as order_store;
use crate::orders::types::{Order, OrderStatus};
use crate::orgs::service::staff_ids;
use crate::shop::store as shop_store;
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
                | Change::AfterSaleAsked { .. }
                | Change::AfterSaleAnswered { .. }
                | Change::OrderMoved {
                    status: OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed,
                    ..
                }
        )
    }

    async fn apply(&self, state: &AppState, tx: &mut Tx, entries: &[Entry]) -> anyhow::Result<()> {
        let mut tell = Teller {
            state,
            pending: Vec::new(),
        };
        for entry in entries {
            tell.apply(tx, entry).await?;
        }
        tell.write(tx).await?;
        Ok(())
    }
}

/// Gathers a batch's notifications, each dated when its cause was recorded, and writes them a
/// hundred to a statement; taking one back first writes what was gathered, so that the batch
/// comes out as if applied one entry at a time.
struct Teller<'a> {
    state: &'a AppState,
    pending: Vec<NewNotification>,
}

impl Teller<'_> {
    async fn apply(&mut self, tx: &mut Tx, entry: &Entry) -> anyhow::Result<()> {
        let at = Timestamp::from_millis(entry.at_ms);
        match &entry.change {
            Change::Followed { follower, followee } => self.notify(
                at,
                *followee,
                NotificationKind::Follow,
                *follower,
                None,
                None,
            ),
            Change::Unfollowed { follower, followee } => {
                let kind = NotificationKind::Follow;
                self.take_back(tx, kind, *follower, *followee, None).await?
            }
            Change::Liked {
                member,
                note,
                author,
            } => self.notify(
                at,
                *author,
                NotificationKind::Like,
                *member,
                Some(*note),
                None,
            ),
            Change::Collected {
                member,
                note,
                author,
            } => {
                let kind = NotificationKind::Collect;
                self.notify(at, *author, kind, *member, Some(*note), None)
            }
            Change::Unliked {
                member,
                note,
                author,
            } => {
                let kind = NotificationKind::Like;
                self.take_back(tx, kind, *member, *author, Some(*note))
                    .await?
            }
            Change::Uncollected {
                member,
                note,
                author,
            } => {
                let kind = NotificationKind::Collect;
                self.take_back(tx, kind, *member, *author, Some(*note))
                    .await?
            }
            Change::Commented {
                comment,
                note,
                commenter,
                note_author,
                replied_to,
            } => {
                let on = (*note, *comment);
                self.comment(at, on, *commenter, *note_author, *replied_to)
                    .await?
            }
            Change::NotePublished { note, author } => {
                match crate::notes::service::get(self.state, None, *note).await {
                    Ok(public) => self.mentions(at, &public.body, *author, *note, None).await,
                    // Hidden or deleted again since: nobody is told.
                    Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Change::OrderMoved { order, status } => self.order_moved(at, *order, *status).await?,
            Change::AfterSaleAsked { order, .. } => {
                let kind = NotificationKind::AfterSaleAsked;
                self.tell_store(at, *order, kind).await?
            }
            Change::AfterSaleAnswered {
                order, approved, ..
            } => {
                let kind = match approved {
                    true => NotificationKind::RefundApproved,
                    false => NotificationKind::RefundDeclined,
                };
                self.tell_buyer(at, *order, kind).await?
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
            | Change::PaymentSucceeded { .. }
            | Change::PaymentFailed { .. }
            | Change::PaymentRefunded { .. }
            | Change::Reviewed { .. }
            | Change::ProductChanged { .. }
            | Change::StoreChanged { .. } => {}
        }
        Ok(())
    }

    /// One notification; nobody is told about what they did themselves.
    fn notify(
        &mut self,
        at: Timestamp,
        recipient: Id,
        kind: NotificationKind,
        actor: Id,
        note: Option<Id>,
        comment: Option<Id>,
    ) {
        if recipient == actor {
            return;
        }
        self.pending.push(NewNotification {
            id: self.state.ids.next_id(),
            recipient,
            kind,
            actor,
            note,
            comment,
            order: None,
            now: at,
        });
    }

    /// One notification about an order; its buyer is the actor (and, for news of their own
    /// order, also the recipient).
    fn notify_order(
        &mut self,
        at: Timestamp,
        recipient: Id,
        kind: NotificationKind,
        order: &Order,
    ) {
        self.pending.push(NewNotification {
            id: self.state.ids.next_id(),
            recipient,
            kind,
            actor: order.buyer_id,
            note: None,
            comment: None,
            order: Some(order.id),
            now: at,
        });
    }

    /// The store's staff hear of a paid order; the buyer of its shipping; on completion, each
    /// creator whose note sold an item of it, of their commission.
    async fn order_moved(
        &mut self,
        at: Timestamp,
        order: Id,
        status: OrderStatus,
    ) -> anyhow::Result<()> {
        match status {
            OrderStatus::Paid => {
                self.tell_store(at, order, NotificationKind::OrderPaid)
                    .await
            }
            OrderStatus::Shipped => {
                self.tell_buyer(at, order, NotificationKind::OrderShipped)
                    .await
            }
            OrderStatus::Completed => self.tell_creators(at, order).await,
            _ => Ok(()),
        }
    }

    async fn tell_store(
        &mut self,
        at: Timestamp,
        order: Id,
        kind: NotificationKind,
    ) -> anyhow::Result<()> {
        let Some(order) = order_store::order(&self.state.db, order).await? else {
            return Ok(());
        };
        let Some(org) = shop_store::org_of_store(&self.state.db, order.store_id).await? else {
            return Ok(());
        };
        for staff in staff_ids(self.state, org).await? {
            self.notify_order(at, staff, kind, &order);
        }
        Ok(())
    }

    async fn tell_buyer(
        &mut self,
        at: Timestamp,
        order: Id,
        kind: NotificationKind,
    ) -> anyhow::Result<()> {
        if let Some(order) = order_store::order(&self.state.db, order).await? {
            self.notify_order(at, order.buyer_id, kind, &order);
        }
        Ok(())
    }

    async fn tell_creators(&mut self, at: Timestamp, order: Id) -> anyhow::Result<()> {
        let Some(order) = order_store::order(&self.state.db, order).await? else {
            return Ok(());
        };
        let mut creators: Vec<Id> = order
            .items
            .iter()
            .filter(|item| item.commission_bp > 0)
            .filter_map(|item| item.creator_id)
            .filter(|creator| *creator != order.buyer_id)
            .collect();
        creators.sort();
        creators.dedup();
        for creator in creators {
            self.notify_order(at, creator, NotificationKind::CommissionEarned, &order);
        }
        Ok(())
    }

    /// Writes the notifications gathered so far.
    async fn write(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        store::notify_all(tx, &self.pending).await?;
        self.pending.clear();
        Ok(())
    }

    /// Writes what was gathered, then takes back the notification of an undone like, collect
    /// or follow (which may be among them).
    async fn take_back(
        &mut self,
        tx: &mut Tx,
        kind: NotificationKind,
        actor: Id,
        recipient: Id,
        note: Option<Id>,
    ) -> Result<(), sqlx::Error> {
        self.write(tx).await?;
        store::unnotify(tx, kind, actor, recipient, note).await
    }

    /// The replied-to commenter hears of a reply, the note's author of a comment (once, if they
    /// are the same person), and everyone named with `@` of the mention.
    async fn comment(
        &mut self,
        at: Timestamp,
        (note, comment): (Id, Id),
        commenter: Id,
        note_author: Id,
        replied_to: Option<Id>,
    ) -> anyhow::Result<()> {
        let on = (Some(note), Some(comment));
        if let Some(parent_author) = replied_to {
            let kind = NotificationKind::Reply;
            self.notify(at, parent_author, kind, commenter, on.0, on.1);
        }
        if replied_to != Some(note_author) {
            let kind = NotificationKind::Comment;
            self.notify(at, note_author, kind, commenter, on.0, on.1);
        }
        if let Some(row) = store::comment(&self.state.db, comment).await? {
            self.mentions(at, &row.body, commenter, note, Some(comment))
                .await;
        }
        Ok(())
    }

    /// Each existing member named with `@` in `text` is told they were mentioned.
    async fn mentions(
        &mut self,
        at: Timestamp,
        text: &str,
        actor: Id,
        note: Id,
        comment: Option<Id>,
    ) {
        for handle in mentions(text) {
            let Ok(named) = user_by_handle(self.state, &handle).await else {
                continue;
            };
            let kind = NotificationKind::Mention;
            self.notify(at, named.id, kind, actor, Some(note), comment);
        }
    }
}
