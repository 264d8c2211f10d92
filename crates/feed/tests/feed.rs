//! The feed's promises, checked through its public interface.

use std::collections::HashSet;

use feed::{Engine, FeedConfig, NoteInfo, Reason, Signal};

const NOW: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

fn note(id: i64, author: i64, topic: i64, hours_old: i64) -> NoteInfo {
    NoteInfo {
        id,
        author,
        topics: vec![topic],
        created_ms: NOW - hours_old * HOUR,
    }
}

fn ids(cards: &[feed::Card]) -> Vec<i64> {
    cards.iter().map(|c| c.note).collect()
}

#[test]
fn a_new_note_reaches_its_first_pool_of_interested_readers_and_stops_there() {
    let mut engine = Engine::new(FeedConfig::default());
    engine.add_note(note(1, 900, 7, 5));
    for reader in 1..=300 {
        engine.signal(reader, 1, Signal::Like, NOW);
    }
    engine.add_note(note(2, 901, 7, 0));
    let mut reached = HashSet::new();
    for reader in 1..=300 {
        for card in engine.explore(reader, NOW, 20) {
            engine.signal(reader, card.note, Signal::Impression, NOW);
            if card.note == 2 {
                reached.insert(reader);
            }
        }
    }
    assert_eq!(
        reached.len(),
        200,
        "the first pool, then no engagement: no more"
    );
}

#[test]
fn an_engaging_note_is_promoted_to_the_next_pool() {
    let mut engine = Engine::new(FeedConfig::default());
    engine.add_note(note(1, 900, 7, 0));
    for reader in 1..=200 {
        engine.signal(reader, 1, Signal::Impression, NOW);
        if reader % 5 == 0 {
            engine.signal(reader, 1, Signal::Like, NOW);
        }
    }
    assert_eq!(engine.stats().promotions_by_day, [(NOW / 86_400_000, 1)]);
    assert!(ids(&engine.explore(999, NOW, 20)).contains(&1));
}

#[test]
fn seen_notes_do_not_repeat_and_authors_are_spaced() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=120 {
        engine.add_note(note(id, id % 6, id % 4, id % 48));
    }
    let first = engine.explore(1_000, NOW, 20);
    for window in first.windows(5) {
        let authors: HashSet<i64> = window.iter().map(|c| c.author).collect();
        assert_eq!(
            authors.len(),
            5,
            "an author twice within five cards: {first:?}"
        );
    }
    let mut shown: HashSet<i64> = ids(&first).into_iter().collect();
    loop {
        let page = engine.explore(1_000, NOW, 20);
        if page.is_empty() {
            break;
        }
        for card in page {
            assert!(shown.insert(card.note), "note {} shown twice", card.note);
        }
    }
    assert!(shown.len() >= 100, "{} notes reached", shown.len());
}

#[test]
fn impressions_replayed_after_a_restart_are_not_shown_again_and_count_once() {
    let notes = || (1..=120).map(|id| note(id, id % 6, id % 4, id % 48));
    let mut before = Engine::new(FeedConfig::default());
    notes().for_each(|n| before.add_note(n));
    let shown = ids(&before.explore(1_000, NOW, 20));
    // The restart: a new engine learns the reader's impressions, and others' counted per note.
    let mut after = Engine::new(FeedConfig::default());
    notes().for_each(|n| after.add_note(n));
    let mut history: Vec<(i64, i64, Signal, i64)> = shown
        .iter()
        .map(|id| (1_000, *id, Signal::Impression, NOW))
        .collect();
    history.push((feed::NOBODY, 1, Signal::Impression, NOW));
    after.replay(history);
    assert_eq!(after.stats().impressions, 21);
    let next = ids(&after.explore(1_000, NOW, 20));
    assert_eq!(next.len(), 20);
    assert!(
        next.iter().all(|id| !shown.contains(id)),
        "shown before the restart: {shown:?}, after: {next:?}"
    );
    let stranger = ids(&after.explore(2_000, NOW, 20));
    assert!(
        stranger.iter().any(|id| shown.contains(id)),
        "only that reader saw them: {stranger:?}"
    );
}

#[test]
fn hidden_authors_deleted_notes_and_not_interested_never_appear() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=40 {
        engine.add_note(note(id, id % 4, 1, 1));
    }
    engine.set_hidden(77, 2, true);
    engine.set_follow(77, 2, true);
    engine.remove_note(5);
    engine.signal(77, 6, Signal::NotInterested, NOW);
    let mut all = Vec::new();
    for _ in 0..3 {
        all.extend(engine.explore(77, NOW, 20));
    }
    assert!(!all.is_empty());
    assert!(all
        .iter()
        .all(|c| c.author != 2 && c.note != 5 && c.note != 6));
    assert!(
        engine.following(77, None, 20).is_empty(),
        "blocked even when followed"
    );
}

#[test]
fn with_personalisation_off_two_people_get_the_same_page() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=60 {
        engine.add_note(note(id, id % 10, id % 3, id % 24));
    }
    engine.signal(1_001, 3, Signal::Like, NOW);
    engine.signal(1_002, 4, Signal::Collect, NOW);
    engine.set_personalised(1_001, false);
    engine.set_personalised(1_002, false);
    let first = engine.explore(1_001, NOW, 20);
    assert_eq!(first.len(), 20);
    assert_eq!(ids(&first), ids(&engine.explore(1_002, NOW, 20)));
}

#[test]
fn not_interested_lowers_notes_like_it() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=20 {
        // Even notes in topic 1, odd notes in topic 2; otherwise alike.
        engine.add_note(note(id, 100 + id, 1 + id % 2, 2));
    }
    engine.signal(5, 1, Signal::Like, NOW);
    engine.signal(5, 2, Signal::Like, NOW);
    engine.signal(5, 3, Signal::NotInterested, NOW);
    let page = engine.explore(5, NOW, 4);
    assert!(!ids(&page).contains(&3));
    assert_eq!(page[0].note % 2, 0, "topic 1 now comes first: {page:?}");
    let interests = engine.interests(5);
    assert!(
        interests[0].0 == 1 && interests[0].1 > interests[1].1,
        "{interests:?}"
    );
    engine.forget_interest(5, 1, NOW);
    assert!(engine.interests(5).iter().all(|(t, _)| *t != 1));
    // A history replayed after a restart: what came before the deletion teaches nothing…
    engine.signal(5, 4, Signal::Like, NOW - 1);
    assert!(engine.interests(5).iter().all(|(t, _)| *t != 1));
    // …what comes after does.
    engine.signal(5, 6, Signal::Like, NOW + 1);
    assert!(engine.interests(5).iter().any(|(t, _)| *t == 1));
}

#[test]
fn following_is_newest_first_with_a_cursor_and_says_why() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=30 {
        engine.add_note(note(id, 10 + id % 3, 1, 30 - id));
    }
    engine.set_follow(1, 10, true);
    engine.set_follow(1, 11, true);
    // Authors 10 (ids divisible by 3) and 11 (ids one past that); not 12.
    let first = engine.following(1, None, 5);
    assert_eq!(ids(&first), [30, 28, 27, 25, 24]);
    let next = engine.following(1, Some(24), 5);
    assert_eq!(ids(&next), [22, 21, 19, 18, 16]);
    assert_eq!(next[0].reason, Reason::Following { author: 11 });
}

/// Three notes with the same exposures: one much liked, one a little, one not at all.
fn engaged_history() -> Vec<(i64, i64, Signal, i64)> {
    let mut history = Vec::new();
    for (note, likes) in [(1, 60), (2, 0), (3, 20)] {
        for reader in 0..likes {
            history.push((1_000 + reader, note, Signal::Like, NOW));
        }
        for reader in 0..300 {
            history.push((2_000 + reader, note, Signal::Impression, NOW));
        }
    }
    history
}

#[test]
fn trending_follows_engagement_and_leaves_out_notes_that_stopped_growing() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=3 {
        engine.add_note(note(id, 100 + id, id, 2));
    }
    for (reader, note, signal, at) in engaged_history() {
        engine.signal(reader, note, signal, at);
    }
    let page = engine.explore(5, NOW, 20);
    let trending: Vec<i64> = page
        .iter()
        .filter(|c| c.reason == Reason::Trending)
        .map(|c| c.note)
        .collect();
    assert_eq!(trending, vec![1, 3], "{page:?}");
}

#[test]
fn a_replayed_history_teaches_what_the_same_signals_one_by_one_do() {
    let mut one_by_one = Engine::new(FeedConfig::default());
    let mut replayed = Engine::new(FeedConfig::default());
    for engine in [&mut one_by_one, &mut replayed] {
        for id in 1..=3 {
            engine.add_note(note(id, 100 + id, id, 2));
        }
    }
    for (reader, note, signal, at) in engaged_history() {
        one_by_one.signal(reader, note, signal, at);
    }
    replayed.replay(engaged_history());
    for reader in [5, 1_000] {
        assert_eq!(
            one_by_one.explore(reader, NOW, 20),
            replayed.explore(reader, NOW, 20)
        );
        assert_eq!(one_by_one.interests(reader), replayed.interests(reader));
    }
    assert_eq!(one_by_one.stats(), replayed.stats());
}

#[test]
fn a_reader_who_scrolls_on_keeps_getting_full_pages_of_unseen_notes() {
    let mut engine = Engine::new(FeedConfig::default());
    for id in 1..=600 {
        engine.add_note(note(id, 1_000 + id % 150, 7, id % 48));
    }
    engine.signal(1, 1, Signal::Like, NOW);
    let mut shown = HashSet::new();
    for page in 1..=25 {
        let cards = engine.explore(1, NOW, 20);
        assert_eq!(cards.len(), 20, "page {page} is full");
        for card in &cards {
            assert!(shown.insert(card.note), "note {} shown twice", card.note);
        }
    }
}
