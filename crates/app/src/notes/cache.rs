//! Public notes kept ready in memory, as every reader sees them (without anyone's likes and
//! collects), so that feeds, search results and boards do not read the same notes, their media
//! and topics from the database on every page.
//!
//! The database stays the authority on who may see what: [`super::service::public`] asks it on
//! every page which of the notes are still public and not blocked for the viewer, and marks
//! them; only the content comes from here. Content is forgotten when the change log says a note
//! or its author changed ([`super::subscriber`] follows the log on every node), so an edit, a
//! like or a new display name shows on every node within the log's delay.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kernel::Id;
use quick_cache::sync::Cache;

use super::types::Note;

pub struct NoteCache {
    notes: Cache<Id, Arc<Note>>,
    /// Counts forgettings, so that a note read before one is not kept after it.
    forgotten: AtomicU64,
}

impl NoteCache {
    pub fn new(capacity: usize) -> NoteCache {
        NoteCache {
            notes: Cache::new(capacity.max(1)),
            forgotten: AtomicU64::new(0),
        }
    }

    pub fn get(&self, id: Id) -> Option<Arc<Note>> {
        self.notes.get(&id)
    }

    /// Taken before reading notes from the database, and handed to [`NoteCache::keep`].
    pub fn epoch(&self) -> u64 {
        self.forgotten.load(Ordering::SeqCst)
    }

    /// Keeps notes read from the database since `epoch`, unless something was forgotten
    /// meanwhile: then what was read may predate the change, and is dropped again.
    pub fn keep(&self, epoch: u64, notes: &[Arc<Note>]) {
        if self.epoch() != epoch {
            return;
        }
        for note in notes {
            self.notes.insert(note.id, note.clone());
        }
        if self.epoch() != epoch {
            for note in notes {
                self.notes.remove(&note.id);
            }
        }
    }

    /// A note changed (edited, liked, collected, commented, hidden or deleted).
    pub(super) fn forget_note(&self, id: Id) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.notes.remove(&id);
    }

    /// A member changed their profile: their name is on every note of theirs.
    pub(super) fn forget_author(&self, id: Id) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.notes.retain(|_, note| note.author.id != id);
    }

    /// Forgets everything (the log no longer reaches back to what the cache holds).
    pub(super) fn forget_all(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.notes.clear();
    }
}
