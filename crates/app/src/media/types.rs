//! Media vocabulary.

use kernel::{Id, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }
}

/// An uploaded image or video as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Media {
    pub id: Id,
    #[serde(skip)]
    pub owner_id: Id,
    pub kind: MediaKind,
    /// Pixels of the display image; absent for videos.
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Placeholder colour while the image loads, `#rrggbb`.
    pub color: String,
    /// The display-size image, or the video.
    pub url: String,
    /// The card-size image for feeds; absent for videos.
    pub card_url: Option<String>,
    pub mime: String,
    pub bytes: i64,
    pub created_at: Timestamp,
}

/// The public URL of a stored object.
pub fn object_url(key: &str) -> String {
    format!("/media/{key}")
}

impl store::TextState for MediaKind {
    const WHAT: &'static str = "media kind";
    const ALL: &'static [MediaKind] = &[MediaKind::Image, MediaKind::Video];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
