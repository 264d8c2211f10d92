//! Organisation vocabulary.

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Org {
    pub id: Id,
    /// The organisation's unique name in URLs, same rules as a member's handle.
    pub slug: String,
    pub name: String,
    /// Checked by Hongshu's administrators: shows the official badge.
    pub verified: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// Manages staff and everything the organisation runs.
    Owner,
    /// Works in the organisation's store, campaigns and live rooms.
    Staff,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Owner => "owner",
            StaffRole::Staff => "staff",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: Id,
    pub handle: String,
    pub display_name: String,
    pub role: StaffRole,
    pub since: Timestamp,
}

impl store::TextState for StaffRole {
    const WHAT: &'static str = "staff role";
    const ALL: &'static [StaffRole] = &[StaffRole::Owner, StaffRole::Staff];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
