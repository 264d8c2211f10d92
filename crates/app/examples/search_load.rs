//! An open-loop load generator for search over HTTP: `search_load <base url> <rate> <seconds>
//! [path]`. Requests leave on a fixed schedule (`rate` per second) whether or not earlier ones
//! have been answered, and each latency is measured from the moment its request was due, so a
//! slow server cannot hide its queue (no coordinated omission). Queries are two-term queries
//! of content words from the search corpus; with `path`, that one path is requested instead (a baseline).

use std::sync::Arc;
use std::time::{Duration, Instant};

use search::corpus::{Corpus, Draw};
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, rate, seconds, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: search_load <base url> <rate> <seconds> [path]");
    };
    let rate: u64 = rate.parse()?;
    let total = rate * seconds.parse::<u64>()?;
    let mut corpus = Corpus::new(7);
    let paths: Vec<String> = (0..total)
        .map(|_| match rest.first() {
            Some(path) => path.clone(),
            None => format!(
                "/api/v1/search?q={}",
                urlencode(&corpus.two_term_query(Draw::Content))
            ),
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1_000)
        .build()?;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let failures = Arc::new(Mutex::new(0u64));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for (n, path) in paths.into_iter().enumerate() {
        let due = started + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (client, latencies, failures) = (client.clone(), latencies.clone(), failures.clone());
        let url = format!("{base}{path}");
        tasks.push(tokio::spawn(async move {
            let ok = match client.get(&url).send().await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            if ok {
                latencies.lock().await.push(due.elapsed());
            } else {
                *failures.lock().await += 1;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed();
    let mut latencies = latencies.lock().await.clone();
    latencies.sort_unstable();
    let at = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        format!("{:.2} ms", latencies[i].as_secs_f64() * 1000.0)
    };
    println!(
        "{} requests in {:.1} s ({:.0}/s), {} failed; latency p50 {}, p90 {}, p99 {}, max {}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        failures.lock().await,
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
