//! The feed's vocabulary shared with the change log.

use feed::Signal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a client reports about cards.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Impression,
    Read,
    NotInterested,
    FewerFromAuthor,
    /// The reader shared the note (copied its link, sent it from the share sheet, showed its
    /// QR code).
    Share,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Impression => "impression",
            EventKind::Read => "read",
            EventKind::NotInterested => "not_interested",
            EventKind::FewerFromAuthor => "fewer_from_author",
            EventKind::Share => "share",
        }
    }

    /// What the engine learns from it.
    pub fn signal(self) -> Signal {
        match self {
            EventKind::Impression => Signal::Impression,
            EventKind::Read => Signal::Read,
            EventKind::NotInterested => Signal::NotInterested,
            EventKind::FewerFromAuthor => Signal::FewerFromAuthor,
            EventKind::Share => Signal::Share,
        }
    }
}
