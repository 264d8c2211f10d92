//! The feed engine at scale: `cargo bench -p feed --bench engine`.
//!
//! Builds the synthetic world (default 100,000 members, 1,000,000 notes in the window and
//! 20,000,000 events; `HONGSHU_BENCH_USERS`, `HONGSHU_BENCH_NOTES`, `HONGSHU_BENCH_EVENTS` change
//! it), feeds it to an engine and reports how long that took, the engine's memory (resident size
//! after, less before), and the latency of Explore pages for random members, of topic
//! channels, of Following and of the signed-out feed.

use std::time::{Duration, Instant};

use feed::world::{World, WorldSize, TOPICS};
use feed::{Engine, FeedConfig, Signal, UserId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PAGES: usize = 20_000;

fn main() {
    let size = WorldSize {
        users: env_size("HONGSHU_BENCH_USERS", 100_000),
        notes: env_size("HONGSHU_BENCH_NOTES", 1_000_000),
        events: env_size("HONGSHU_BENCH_EVENTS", 20_000_000),
        days: 30,
    };
    let now_ms = 1_790_000_000_000;
    let started = Instant::now();
    let world = World::generate(size, 20_261_122, now_ms, |ms| ms << 12);
    println!(
        "world: {} members, {} notes, {} follows, generated in {:.1} s",
        size.users,
        size.notes,
        world.follows.len(),
        started.elapsed().as_secs_f64()
    );

    let before = resident_bytes();
    let started = Instant::now();
    let mut engine = Engine::new(FeedConfig::default());
    world.load_into(&mut engine);
    println!(
        "engine fed {} events in {:.1} s; resident memory grew by {:.0} MiB",
        size.events,
        started.elapsed().as_secs_f64(),
        (resident_bytes() - before) as f64 / 1048576.0
    );

    let mut rng = StdRng::seed_from_u64(11);
    let mut member = || rng.gen_range(1..=size.users as UserId);
    let readers: Vec<UserId> = (0..PAGES).map(|_| member()).collect();
    let mut clock = now_ms;
    report(
        "Explore, one page of 20",
        time_each(&readers, |reader| {
            clock += 1;
            let page = engine.explore(*reader, clock, 20);
            for card in &page {
                engine.signal(*reader, card.note, Signal::Impression, clock);
            }
        }),
    );
    let mut topic = 0;
    report(
        "topic channel, one page of 20",
        time_each(&readers, |reader| {
            topic = topic % TOPICS.len() as i64 + 1;
            engine.topic(*reader, &[topic], clock, 20);
        }),
    );
    report(
        "Following, one page of 20",
        time_each(&readers, |reader| {
            engine.following(*reader, None, 20);
        }),
    );
    let mut offset = 0;
    report(
        "signed out (popular and fresh), one page of 20",
        time_each(&readers[..2_000], |_| {
            engine.popular(clock, offset % 200, 20);
            offset += 20;
        }),
    );
}

fn time_each(readers: &[UserId], mut work: impl FnMut(&UserId)) -> Vec<Duration> {
    readers
        .iter()
        .map(|reader| {
            let started = Instant::now();
            work(reader);
            started.elapsed()
        })
        .collect()
}

fn report(what: &str, mut took: Vec<Duration>) {
    took.sort_unstable();
    let at = |p: f64| {
        let i = ((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1;
        took[i].as_secs_f64() * 1000.0
    };
    println!(
        "{what}: {} runs, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        took.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().expect("a whole number"))
        .unwrap_or(default)
}

/// The process's resident set size, from /proc (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
