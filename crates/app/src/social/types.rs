//! Social vocabulary.

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::notes::types::Author;

pub const MAX_COMMENT: usize = 500;
pub const MAX_BOARD_NAME: usize = 30;
/// The board a collect goes to when none is named.
pub const DEFAULT_BOARD: &str = "收藏 Favorites";

/// The counts a profile shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileStats {
    pub following: i64,
    pub followers: i64,
    /// Likes and collects received on the member's notes.
    pub likes_and_collects: i64,
    pub notes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub id: Id,
    pub owner: Author,
    pub name: String,
    pub public: bool,
    pub note_count: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comment {
    pub id: Id,
    pub note_id: Id,
    pub author: Author,
    /// The comment this one replies to; replies go one level deep.
    pub parent_id: Option<Id>,
    pub body: String,
    pub like_count: i64,
    pub liked: bool,
    pub pinned: bool,
    pub created_at: Timestamp,
    /// For top-level comments: the replies, oldest first.
    #[schema(no_recursion)]
    pub replies: Vec<Comment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Like,
    Collect,
    Comment,
    Reply,
    Mention,
    Follow,
    /// To a store's staff: a buyer paid for an order.
    OrderPaid,
    /// To the buyer: their order was shipped.
    OrderShipped,
    /// To a store's staff: a buyer asked for their money back.
    AfterSaleAsked,
    /// To the buyer: the store refunded them.
    RefundApproved,
    /// To the buyer: the store declined their request.
    RefundDeclined,
    /// To a creator: an order bought from their note completed and their commission is earned.
    CommissionEarned,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Like => "like",
            NotificationKind::Collect => "collect",
            NotificationKind::Comment => "comment",
            NotificationKind::Reply => "reply",
            NotificationKind::Mention => "mention",
            NotificationKind::Follow => "follow",
            NotificationKind::OrderPaid => "order_paid",
            NotificationKind::OrderShipped => "order_shipped",
            NotificationKind::AfterSaleAsked => "after_sale_asked",
            NotificationKind::RefundApproved => "refund_approved",
            NotificationKind::RefundDeclined => "refund_declined",
            NotificationKind::CommissionEarned => "commission_earned",
        }
    }

    /// News of the member's own order, told without naming anyone ("your order shipped").
    pub fn about_own_order(self) -> bool {
        matches!(
            self,
            NotificationKind::OrderShipped
                | NotificationKind::RefundApproved
                | NotificationKind::RefundDeclined
        )
    }

    /// Likes, collects and follows are grouped ("Lin and 3 others liked your note").
    pub fn groups(self) -> bool {
        matches!(
            self,
            NotificationKind::Like | NotificationKind::Collect | NotificationKind::Follow
        )
    }
}

/// One line in the notification list: one event, or several of a kind on the same note.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationGroup {
    pub kind: NotificationKind,
    /// The most recent people first, at most three.
    pub actors: Vec<Author>,
    /// How many events the line stands for.
    pub count: usize,
    pub note_id: Option<Id>,
    pub note_title: Option<String>,
    pub comment_id: Option<Id>,
    /// The comment's text, for comments, replies and mentions in comments.
    pub excerpt: Option<String>,
    /// For commerce notifications: the order.
    pub order_id: Option<Id>,
    pub unread: bool,
    pub latest_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportTarget {
    Note,
    Comment,
    User,
}

impl ReportTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportTarget::Note => "note",
            ReportTarget::Comment => "comment",
            ReportTarget::User => "user",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    FakeReview,
    Harassment,
    Inappropriate,
    Copyright,
    Other,
}

impl ReportReason {
    pub const ALL: [ReportReason; 6] = [
        ReportReason::Spam,
        ReportReason::FakeReview,
        ReportReason::Harassment,
        ReportReason::Inappropriate,
        ReportReason::Copyright,
        ReportReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::FakeReview => "fake_review",
            ReportReason::Harassment => "harassment",
            ReportReason::Inappropriate => "inappropriate",
            ReportReason::Copyright => "copyright",
            ReportReason::Other => "other",
        }
    }
}

impl store::TextState for NotificationKind {
    const WHAT: &'static str = "notification kind";
    const ALL: &'static [NotificationKind] = &[
        NotificationKind::Like,
        NotificationKind::Collect,
        NotificationKind::Comment,
        NotificationKind::Reply,
        NotificationKind::Mention,
        NotificationKind::Follow,
        NotificationKind::OrderPaid,
        NotificationKind::OrderShipped,
        NotificationKind::AfterSaleAsked,
        NotificationKind::RefundApproved,
        NotificationKind::RefundDeclined,
        NotificationKind::CommissionEarned,
    ];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
