//! Hongshu's shared vocabulary. Every crate speaks in these types; none of them does I/O.

mod id;
pub mod money;
mod page;
mod time;
mod zone;

pub use id::{Id, IdGenerator, ParseIdError};
pub use money::{Currency, Money, MoneyError};
pub use page::{next_position, BadCursor, Cursor, Page, PageRequest, MAX_PAGE_SIZE, MAX_POSITION};
pub use time::Timestamp;
pub use zone::{UnknownZone, Zone};
