//! The rules of the social graph, one module per subject, all reached as `social::service`.

use ::store::Tx;
use kernel::{Id, Page, PageRequest, Timestamp};

use super::store::{self, NewComment, NewReport};
use super::types::{
    Board, Comment, NotificationGroup, ProfileStats, ReportReason, ReportTarget, DEFAULT_BOARD,
    MAX_BOARD_NAME, MAX_COMMENT,
};
use crate::accounts::service::{blocked, user_by_handle};
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::notes::types::{parse_text, Author, Note};
use crate::state::AppState;
use crate::web::page_bounds;

mod boards;
mod comments;
mod graph;
mod marks;
mod notifications;
mod reports;

pub use boards::*;
pub use comments::*;
pub use graph::*;
pub use marks::*;
pub use notifications::*;
pub use reports::*;

pub(super) const LIKES: (&str, (&str, &str)) = ("likes", ("user_id", "note_id"));

pub(super) const FOLLOWS: (&str, (&str, &str)) = ("follows", ("follower_id", "followee_id"));

pub(super) const BLOCKS: (&str, (&str, &str)) = ("blocks", ("blocker_id", "blocked_id"));

pub(super) const MUTES: (&str, (&str, &str)) = ("mutes", ("muter_id", "muted_id"));

pub(super) const COMMENT_LIKES: (&str, (&str, &str)) = ("comment_likes", ("user_id", "comment_id"));
