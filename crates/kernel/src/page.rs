//! Cursor pagination: `?cursor=…&limit=…` in, `{items, next_cursor}` out.
//!
//! A cursor is an opaque string to clients. Inside, it is the sort key of the last item served,
//! so the next page is a range scan (`WHERE key < $cursor`) rather than an `OFFSET`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

pub const MAX_PAGE_SIZE: u32 = 100;
const DEFAULT_PAGE_SIZE: u32 = 20;
/// The deepest position a ranked list (search results, Explore for everyone) is paged to: a
/// cursor there is a position in the ranking, and ranking deeper costs memory in proportion.
pub const MAX_POSITION: usize = 1_000;

/// The last-seen sort key, opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_be_bytes())
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        Some(Cursor(i64::from_be_bytes(bytes.try_into().ok()?)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a cursor this server issued")]
pub struct BadCursor;

/// What a client asked for, as it arrives in the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageRequest {
    /// `next_cursor` from the previous page; absent for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The page size to serve, or `None` when the limit is out of range.
    pub fn size(&self) -> Option<u32> {
        match self.limit {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Some(n),
            Some(_) => None,
        }
    }

    /// The decoded cursor: `Ok(None)` for the first page, an error when it is not one of ours.
    pub fn after(&self) -> Result<Option<Cursor>, BadCursor> {
        match &self.cursor {
            None => Ok(None),
            Some(text) => Cursor::decode(text).map(Some).ok_or(BadCursor),
        }
    }

    /// The position to serve a ranked list from: 0 for the first page, else a position this
    /// server could have issued (0 to `MAX_POSITION`), so a forged one never sizes anything.
    pub fn position(&self) -> Result<usize, BadCursor> {
        match self.after()? {
            None => Ok(0),
            Some(Cursor(n)) => usize::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_POSITION)
                .ok_or(BadCursor),
        }
    }
}

/// The cursor of the next page of a ranked list after `served` items, unless that would go
/// past the deepest position served.
pub fn next_position(served: usize) -> Option<String> {
    (served <= MAX_POSITION).then(|| Cursor(served as i64).encode())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` rows fetched in order: the extra row only tells that
    /// another page exists.
    pub fn from_rows(mut rows: Vec<T>, size: u32, key: impl Fn(&T) -> i64) -> Self {
        let size = size as usize;
        let more = rows.len() > size;
        rows.truncate(size);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(Cursor(key(last)).encode()),
            _ => None,
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor(7_250_960_273_694_721);
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode("AAAA"), None);
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_rows_exist() {
        let full = Page::from_rows(vec![5, 4, 3], 2, |n| *n);
        assert_eq!(full.items, vec![5, 4]);
        assert_eq!(full.next_cursor, Some(Cursor(4).encode()));
        let last = Page::from_rows(vec![5, 4], 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn positions_beyond_the_deepest_or_below_zero_are_refused() {
        let at = |n: i64| PageRequest {
            cursor: Some(Cursor(n).encode()),
            limit: None,
        };
        assert_eq!(PageRequest::default().position(), Ok(0));
        assert_eq!(at(40).position(), Ok(40));
        assert_eq!(at(MAX_POSITION as i64).position(), Ok(MAX_POSITION));
        assert_eq!(at(MAX_POSITION as i64 + 1).position(), Err(BadCursor));
        assert_eq!(at(2_000_000_000).position(), Err(BadCursor));
        assert_eq!(at(-1).position(), Err(BadCursor));
        assert_eq!(next_position(MAX_POSITION + 1), None);
    }

    #[test]
    fn page_sizes_outside_the_range_are_refused() {
        let ask = |limit| PageRequest {
            cursor: None,
            limit,
        };
        assert_eq!(ask(None).size(), Some(20));
        assert_eq!(ask(Some(100)).size(), Some(100));
        assert_eq!(ask(Some(0)).size(), None);
        assert_eq!(ask(Some(101)).size(), None);
    }
}
