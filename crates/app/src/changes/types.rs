//! What the change log says: one typed [`Change`] per fact another part of Hongshu may care
//! about, and where in the log an entry stands.

use std::fmt;
use std::str::FromStr;

use kernel::Id;
use serde::{Deserialize, Serialize};

use crate::feed::types::EventKind;
use crate::orders::types::OrderStatus;

/// A fact, recorded in the transaction that makes it true. A new fact is a new variant: every
/// subscriber's `match` then shows where it must be handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A note became public: created public, or a draft or private note published.
    NotePublished {
        note: Id,
        author: Id,
    },
    /// A note changed in any other way (content, or public no longer).
    NoteEdited {
        note: Id,
        author: Id,
    },
    NoteDeleted {
        note: Id,
        author: Id,
    },
    Liked {
        member: Id,
        note: Id,
        author: Id,
    },
    Unliked {
        member: Id,
        note: Id,
        author: Id,
    },
    Collected {
        member: Id,
        note: Id,
        author: Id,
    },
    Uncollected {
        member: Id,
        note: Id,
        author: Id,
    },
    Commented {
        comment: Id,
        note: Id,
        commenter: Id,
        note_author: Id,
        /// The author of the comment this one replies to.
        replied_to: Option<Id>,
    },
    /// A comment and its replies were deleted.
    CommentDeleted {
        comment: Id,
        note: Id,
    },
    Followed {
        follower: Id,
        followee: Id,
    },
    Unfollowed {
        follower: Id,
        followee: Id,
    },
    /// A block, which also ended any follow either way.
    Blocked {
        blocker: Id,
        blocked: Id,
    },
    Unblocked {
        blocker: Id,
        blocked: Id,
    },
    Muted {
        muter: Id,
        muted: Id,
    },
    Unmuted {
        muter: Id,
        muted: Id,
    },
    MemberJoined {
        member: Id,
    },
    ProfileChanged {
        member: Id,
    },
    /// A member deleted their account; `touched` are other members' notes their likes,
    /// collects and comments were taken from.
    AccountDeleted {
        member: Id,
        touched: Vec<Id>,
    },
    /// What a reader's app reported about feed cards.
    CardEvents {
        reader: Id,
        at_ms: i64,
        events: Vec<(Id, EventKind)>,
    },
    PersonalisationSet {
        reader: Id,
        personalised: bool,
    },
    InterestForgotten {
        reader: Id,
        topic: i64,
        at_ms: i64,
    },
    /// An order was placed (`pending_payment`) or moved on.
    OrderMoved {
        order: Id,
        status: OrderStatus,
    },
    PaymentSucceeded {
        payment: Id,
        order: Id,
    },
    PaymentFailed {
        payment: Id,
        order: Id,
    },
    PaymentRefunded {
        payment: Id,
        order: Id,
    },
    Reviewed {
        review: Id,
        order: Id,
        product: Id,
    },
    /// A buyer asked for their money back.
    AfterSaleAsked {
        request: Id,
        order: Id,
    },
    /// The store answered: refunded (`approved`) or declined.
    AfterSaleAnswered {
        request: Id,
        order: Id,
        approved: bool,
    },
    /// A product was listed or edited: its text, state or SKUs.
    ProductChanged {
        product: Id,
        store: Id,
    },
    /// A store's name, description, logo or shipping changed.
    StoreChanged {
        store: Id,
    },
}

/// Where an entry stands in the log. Readers go through the log in this order, which is the
/// order in which entries become final (see [`super::store::read_after`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// The writing transaction's id on PostgreSQL; 0 on SQLite.
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    /// Before every entry.
    pub const START: Position = Position { tx: 0, seq: 0 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx, self.seq)
    }
}

impl FromStr for Position {
    type Err = String;
    fn from_str(text: &str) -> Result<Position, String> {
        let (tx, seq) = text
            .split_once('.')
            .ok_or_else(|| format!("{text:?} is not a change-log position"))?;
        let number = |part: &str| {
            part.parse::<i64>()
                .map_err(|_| format!("{text:?} is not a change-log position"))
        };
        Ok(Position {
            tx: number(tx)?,
            seq: number(seq)?,
        })
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub position: Position,
    pub at_ms: i64,
    pub change: Change,
}

/// Where a subscriber applies the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Each node keeps its own copy (an index, an engine, a cache) and applies every entry.
    EveryNode,
    /// One node applies each entry for the whole cluster (notifications, counters).
    OncePerCluster,
}

/// A subscriber's standing, for `hongshu changes` and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub subscriber: String,
    pub position: String,
    /// Entries recorded after its position.
    pub behind: u64,
    /// Age of the oldest entry it has not applied, in milliseconds (0 when caught up).
    pub lag_ms: i64,
    /// How long ago the position was saved, in milliseconds.
    pub saved_ago_ms: i64,
}
