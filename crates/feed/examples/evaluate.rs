//! The feed's offline evaluation: `cargo run --release -p feed --features world --example
//! evaluate [users notes events]`.
//!
//! Builds a synthetic world with planted interests, feeds the engine all of its history, then
//! serves three Explore pages to each of 1,000 members, playing their part: every card shown is
//! an impression, and a card about their interests is liked as often as the note is good.
//! Reports precision@20 (the share of cards about the member's planted interests) for the
//! engine, for the engine with personalisation off, and for a popularity-only baseline (the
//! most-liked notes of the history, each member's own and already-shown ones left out), and
//! the fairness figure for each: the share of cards from creators with under 1,000 followers.

use std::collections::{HashMap, HashSet};

use feed::world::{World, WorldSize};
use feed::{Card, Engine, FeedConfig, NoteId, Signal, UserId, SMALL_CREATOR};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PAGES: usize = 3;
const PAGE: usize = 20;
const READERS: usize = 1_000;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are whole numbers"))
        .collect();
    let size = match args.as_slice() {
        [] => WorldSize {
            users: 20_000,
            notes: 200_000,
            events: 4_000_000,
            days: 30,
        },
        [users, notes, events] => WorldSize {
            users: *users,
            notes: *notes,
            events: *events,
            days: 30,
        },
        _ => panic!("usage: evaluate [users notes events]"),
    };
    let now_ms = 1_790_000_000_000;
    let world = World::generate(size, 20_261_122, now_ms, |ms| ms << 12);
    let mut engine = Engine::new(FeedConfig::default());
    world.load_into(&mut engine);
    let by_id: HashMap<NoteId, usize> = world
        .notes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let mut rng = StdRng::seed_from_u64(7);
    let readers: Vec<UserId> = (0..READERS)
        .map(|_| rng.gen_range(1..=size.users as UserId))
        .collect();

    let most_liked = most_liked(&world);
    let mut rows = Vec::new();
    for (name, personalised) in [("engine", true), ("engine, personalisation off", false)] {
        let mut tally = Tally::default();
        for reader in &readers {
            engine.set_personalised(*reader, personalised);
            for _ in 0..PAGES {
                let page = engine.explore(*reader, now_ms, PAGE);
                let notes: Vec<NoteId> = page.iter().map(|c: &Card| c.note).collect();
                tally.page(&world, &by_id, *reader, &notes);
                play_reader(
                    &world,
                    &by_id,
                    &mut engine,
                    &mut rng,
                    *reader,
                    &notes,
                    now_ms,
                );
            }
        }
        rows.push((name, tally));
    }
    let mut tally = Tally::default();
    for reader in &readers {
        let mut shown = HashSet::new();
        for _ in 0..PAGES {
            let notes: Vec<NoteId> = most_liked
                .iter()
                .filter(|id| world.notes[by_id[id]].author != *reader && !shown.contains(*id))
                .take(PAGE)
                .copied()
                .collect();
            shown.extend(notes.iter().copied());
            tally.page(&world, &by_id, *reader, &notes);
        }
    }
    rows.push(("popularity only (baseline)", tally));

    let small_notes = world
        .notes
        .iter()
        .filter(|n| world.followers_of(n.author) < SMALL_CREATOR)
        .count();
    println!(
        "world: {} members, {} notes, {} events, {} topics; {:.1}% of notes by creators under {SMALL_CREATOR} followers",
        size.users,
        size.notes,
        size.events,
        feed::world::TOPICS.len(),
        100.0 * small_notes as f64 / size.notes as f64
    );
    println!("{READERS} readers, {PAGES} pages of {PAGE} each");
    println!("| feed | precision@20, first page | precision@20, pages 1–{PAGES} | cards from creators under {SMALL_CREATOR} followers |");
    println!("|---|---|---|---|");
    for (name, tally) in rows {
        println!(
            "| {name} | {:.3} | {:.3} | {:.1}% |",
            tally.first_relevant as f64 / tally.first_cards.max(1) as f64,
            tally.relevant as f64 / tally.cards.max(1) as f64,
            100.0 * tally.small as f64 / tally.cards.max(1) as f64,
        );
    }
}

#[derive(Default)]
struct Tally {
    first_cards: usize,
    first_relevant: usize,
    cards: usize,
    relevant: usize,
    small: usize,
    pages: usize,
}

impl Tally {
    /// Counts a page; a short page counts its missing cards as misses.
    fn page(
        &mut self,
        world: &World,
        by_id: &HashMap<NoteId, usize>,
        reader: UserId,
        notes: &[NoteId],
    ) {
        let relevant = notes
            .iter()
            .filter(|id| world.relevant(reader, &world.notes[by_id[id]]))
            .count();
        if self.pages.is_multiple_of(PAGES) {
            self.first_cards += PAGE;
            self.first_relevant += relevant;
        }
        self.pages += 1;
        self.cards += PAGE;
        self.relevant += relevant;
        self.small += notes
            .iter()
            .filter(|id| world.followers_of(world.notes[by_id[id]].author) < SMALL_CREATOR)
            .count();
    }
}

/// The reader sees every card and likes the ones about their interests as often as they are good.
fn play_reader(
    world: &World,
    by_id: &HashMap<NoteId, usize>,
    engine: &mut Engine,
    rng: &mut StdRng,
    reader: UserId,
    notes: &[NoteId],
    now_ms: i64,
) {
    for id in notes {
        engine.signal(reader, *id, Signal::Impression, now_ms);
        let index = by_id[id];
        if world.relevant(reader, &world.notes[index])
            && rng.gen_bool(f64::from(world.quality[index]))
        {
            engine.signal(reader, *id, Signal::Like, now_ms);
        }
    }
}

/// Every note in order of likes in the history, most first.
fn most_liked(world: &World) -> Vec<NoteId> {
    let mut likes: HashMap<NoteId, u32> = HashMap::new();
    for (_, note, signal, _) in world.events() {
        if signal == Signal::Like {
            *likes.entry(note).or_default() += 1;
        }
    }
    let mut ranked: Vec<(NoteId, u32)> = likes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    ranked.into_iter().map(|(id, _)| id).collect()
}
