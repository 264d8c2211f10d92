//! What members send to delete their account.

use serde::Deserialize;
use utoipa::ToSchema;

/// Deleting an account is confirmed with its password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccount {
    pub password: String,
}

/// The file name of a member's archive.
pub fn archive_name(handle: &str) -> String {
    format!("hongshu-{handle}.zip")
}
