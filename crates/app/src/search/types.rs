//! Search's vocabulary: what to search for, in which order, and what a result is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::types::User;
use crate::notes::types::Note;
use crate::shop::types::Product;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchType {
    #[default]
    Notes,
    Users,
    Topics,
    Products,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SearchSort {
    #[default]
    Relevance,
    Latest,
    Popular,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicHit {
    pub name: String,
    pub notes: u64,
}

/// One result: a note, a member, a topic or a product on sale, with a highlighted snippet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchItem {
    /// A piece of the matching text, HTML-escaped, with the matches in `<b>`.
    pub snippet: String,
    pub note: Option<Note>,
    pub user: Option<User>,
    pub topic: Option<TopicHit>,
    pub product: Option<Product>,
}
