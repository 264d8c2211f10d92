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

/// Topics that are one channel under a name in each language: (English, Chinese). A channel's
/// tab is named in the reader's language and holds the notes of both names.
const CHANNEL_ALIASES: &[(&str, &str)] = &[
    ("fashion", "穿搭"),
    ("travel", "旅行"),
    ("beauty", "美妆"),
    ("food", "美食"),
    ("skincare", "护肤"),
    ("outdoor", "户外"),
    ("home", "家居"),
    ("coffee", "咖啡"),
    ("fitness", "健身"),
    ("photography", "摄影"),
    ("hiking", "徒步"),
    ("makeup", "彩妆"),
];

/// A topic channel, known by any of its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel<'a> {
    /// A topic with a name in each language.
    Aliased(&'static (&'static str, &'static str)),
    /// A topic with its one name.
    Single(&'a str),
}

impl<'a> Channel<'a> {
    /// The channel of a topic's name (lowercase, without `#`).
    pub fn of(name: &'a str) -> Channel<'a> {
        CHANNEL_ALIASES
            .iter()
            .find(|(en, zh)| *en == name || *zh == name)
            .map_or(Channel::Single(name), Channel::Aliased)
    }

    /// Every name of the channel's topic.
    pub fn names(self) -> Vec<&'a str> {
        match self {
            Channel::Aliased((en, zh)) => vec![en, zh],
            Channel::Single(name) => vec![name],
        }
    }

    /// The channel's name for a reader of Chinese, or of English.
    pub fn name(self, chinese: bool) -> &'a str {
        match self {
            Channel::Aliased((en, zh)) => {
                if chinese {
                    zh
                } else {
                    en
                }
            }
            Channel::Single(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_one_topic_under_the_names_of_both_languages() {
        assert_eq!(Channel::of("穿搭"), Channel::of("fashion"));
        assert_eq!(Channel::of("fashion").name(true), "穿搭");
        assert_eq!(Channel::of("穿搭").names(), ["fashion", "穿搭"]);
        assert_eq!(Channel::of("dumplings").name(true), "dumplings");
    }
}
