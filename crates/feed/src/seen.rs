//! The notes a person has been shown: two Bloom filters, the current one and the one before.
//! When the current one holds its capacity it becomes the previous one and a fresh one starts,
//! so memory stays bounded and the false-positive rate stays under the configured rate (each
//! filter is sized for half of it).

use bloomfilter::Bloom;

use crate::NoteId;

pub struct Seen {
    current: Bloom<NoteId>,
    previous: Option<Bloom<NoteId>>,
    held: usize,
    capacity: usize,
    false_positives: f64,
}

impl Seen {
    pub fn new(capacity: usize, false_positives: f64) -> Seen {
        Seen {
            current: Self::filter(capacity, false_positives),
            previous: None,
            held: 0,
            capacity: capacity.max(1),
            false_positives,
        }
    }

    fn filter(capacity: usize, false_positives: f64) -> Bloom<NoteId> {
        Bloom::new_for_fp_rate(capacity.max(1), (false_positives / 2.0).clamp(1e-9, 0.5))
            .expect("a positive capacity and a rate between 0 and 1")
    }

    pub fn contains(&self, note: NoteId) -> bool {
        self.current.check(&note) || self.previous.as_ref().is_some_and(|p| p.check(&note))
    }

    pub fn insert(&mut self, note: NoteId) {
        if self.held == self.capacity {
            let fresh = Self::filter(self.capacity, self.false_positives);
            self.previous = Some(std::mem::replace(&mut self.current, fresh));
            self.held = 0;
        }
        self.current.set(&note);
        self.held += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_what_it_was_told_and_rarely_imagines_more() {
        let mut seen = Seen::new(2_000, 0.01);
        for note in 0..2_000 {
            seen.insert(note);
        }
        assert!((0..2_000).all(|n| seen.contains(n)));
        let imagined = (1_000_000..1_100_000).filter(|n| seen.contains(*n)).count();
        assert!(imagined < 1_000, "{imagined} false positives in 100,000");
    }

    #[test]
    fn the_oldest_half_is_forgotten_when_full() {
        let mut seen = Seen::new(100, 0.01);
        for note in 0..250 {
            seen.insert(note);
        }
        assert!((100..250).all(|n| seen.contains(n)));
        assert!((0..100).filter(|n| seen.contains(*n)).count() < 10);
    }
}
