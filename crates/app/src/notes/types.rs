//! Note vocabulary and the parsing of what authors write.

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::media::types::Media;

pub const MAX_TITLE: usize = 20;
pub const MAX_BODY: usize = 1_000;
pub const MAX_IMAGES: usize = 18;
pub const MAX_PLACE: usize = 40;
const MAX_TOPIC: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    /// Only the author sees it.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// The author as shown on a note.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    pub id: Id,
    pub handle: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Note {
    pub id: Id,
    pub author: Author,
    /// `image` or `video`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub place: String,
    pub visibility: Visibility,
    pub draft: bool,
    /// Topics named in the body with `#`, lower case, in order of appearance.
    pub topics: Vec<String>,
    /// Images in the author's order; for a video note, the video then its cover.
    pub media: Vec<Media>,
    pub like_count: i64,
    pub collect_count: i64,
    pub comment_count: i64,
    /// Whether the reader has liked or collected it (false when signed out).
    pub liked: bool,
    pub collected: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set once a published note is changed.
    pub edited_at: Option<Timestamp>,
}

impl Note {
    /// The image for cards: the first image, or a video's cover.
    pub fn cover(&self) -> Option<&Media> {
        if self.kind == "video" {
            self.media.get(1)
        } else {
            self.media.first()
        }
    }

    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public && !self.draft
    }
}

/// Text checked against a length in characters; `required` refuses blank text.
pub fn parse_text(
    field: &str,
    input: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let text = input.trim();
    if required && text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A piece of a note's body: plain text, a `#topic` or an `@mention`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span<'a> {
    Text(&'a str),
    Topic(&'a str),
    Mention(&'a str),
}

/// Splits a body into text, topics and mentions. A topic is `#` followed by letters, digits or
/// `_` (any script) up to 30 characters; a mention is `@` followed by a handle's characters.
pub fn spans(body: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let is_word: fn(char) -> bool = match c {
            '#' => |c| c.is_alphanumeric() || c == '_',
            '@' => |c| c.is_ascii_alphanumeric() || c == '_' || c == '.',
            _ => continue,
        };
        let start = at + 1;
        let mut end = start;
        let mut count = 0;
        while let Some(&(i, next)) = chars.peek() {
            if !is_word(next) || count == MAX_TOPIC {
                break;
            }
            end = i + next.len_utf8();
            count += 1;
            chars.next();
        }
        let word = body[start..end].trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        if text_start < at {
            out.push(Span::Text(&body[text_start..at]));
        }
        out.push(if c == '#' {
            Span::Topic(word)
        } else {
            Span::Mention(word)
        });
        text_start = start + word.len();
    }
    if text_start < body.len() {
        out.push(Span::Text(&body[text_start..]));
    }
    out
}

/// The distinct topics of a body, lower case, in order.
pub fn topics(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for span in spans(body) {
        if let Span::Topic(topic) = span {
            let topic = topic.to_lowercase();
            if !found.contains(&topic) {
                found.push(topic);
            }
        }
    }
    found
}

/// The distinct handles mentioned in a body, lower case.
pub fn mentions(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for span in spans(body) {
        if let Span::Mention(handle) = span {
            let handle = handle.to_ascii_lowercase();
            if !found.contains(&handle) {
                found.push(handle);
            }
        }
    }
    found
}

impl store::TextState for Visibility {
    const WHAT: &'static str = "note visibility";
    const ALL: &'static [Visibility] = &[Visibility::Public, Visibility::Private];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_mentions_are_found_in_chinese_and_english() {
        let body = "夏天必备 #防晒 真的好用！Thanks @Lin_XiaoHong. #Sunscreen #防晒";
        assert_eq!(topics(body), ["防晒", "sunscreen"]);
        assert_eq!(mentions(body), ["lin_xiaohong"]);
        let parts = spans("a #b c");
        assert_eq!(
            parts,
            [Span::Text("a "), Span::Topic("b"), Span::Text(" c")]
        );
    }

    #[test]
    fn a_lone_sign_is_just_text() {
        assert_eq!(spans("5 # of 3 @ home"), [Span::Text("5 # of 3 @ home")]);
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(parse_text("title", &"红".repeat(20), MAX_TITLE, false).is_ok());
        assert_eq!(
            parse_text("title", &"红".repeat(21), MAX_TITLE, false)
                .unwrap_err()
                .detail,
            "must be at most 20 characters"
        );
        assert!(parse_text("body", "  ", MAX_BODY, true).is_err());
    }
}
