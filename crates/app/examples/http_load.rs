//! An open-loop HTTP load generator: `http_load <base url> <rate> <seconds> <what>`, where
//! `what` is `search` (two-term queries of content words from the search corpus), `feed
//! <tokens file>` (Explore pages, each as a random member of the file, one API token per line),
//! `checkout <buyers file> <skus file>` (checkouts of one unit of a random SKU as a random buyer,
//! each with its own idempotency key; the files as `mall_world` writes them), `like <tokens
//! file> <notes file>` (members, one token per line, liking notes, one id per line, and taking
//! the likes back in later rounds, so that every request changes something) or a path
//! requested as it is (a baseline such as `/healthz`). Requests leave on a fixed
//! schedule (`rate` per second) whether or not earlier ones have been answered, and each
//! latency is measured from the moment its request was due, so a slow server cannot hide its
//! queue (no coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use search::corpus::{Corpus, Draw};
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: http_load <base url> <rate> <seconds> search | feed <tokens file> | \
                 checkout <buyers file> <skus file> | like <tokens file> <notes file> | <path>";
    let [base, rate, seconds, what @ ..] = args.as_slice() else {
        anyhow::bail!(usage);
    };
    let rate: u64 = rate.parse()?;
    let total = rate * seconds.parse::<u64>()?;
    let mut corpus = Corpus::new(7);
    let lines = |file: &String| -> anyhow::Result<Vec<String>> {
        Ok(std::fs::read_to_string(file)?
            .lines()
            .map(str::to_owned)
            .collect())
    };
    let (tokens, skus) = match what {
        [feed, file] if feed == "feed" => (lines(file)?, Vec::new()),
        [checkout, buyers, skus] if checkout == "checkout" => (lines(buyers)?, lines(skus)?),
        [like, tokens, notes] if like == "like" => (lines(tokens)?, lines(notes)?),
        _ => (Vec::new(), Vec::new()),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Idempotency keys differ from run to run, so a second run makes new orders.
    let run: u32 = rand::random();
    let requests: Vec<Request> = (0..total)
        .map(|n| match what {
            [search] if search == "search" => Ok(Request::get(format!(
                "/api/v1/search?q={}",
                urlencode(&corpus.two_term_query(Draw::Content))
            ))),
            [feed, _] if feed == "feed" => Ok(Request {
                token: tokens.choose(&mut rng).cloned(),
                ..Request::get("/api/v1/feed/explore".to_owned())
            }),
            [checkout, _, _] if checkout == "checkout" => {
                let buyer = tokens.choose(&mut rng).ok_or_else(|| anyhow::anyhow!("no buyers"))?;
                let (token, address) = buyer.split_once(' ').ok_or_else(|| anyhow::anyhow!("a buyer line is: token address"))?;
                let sku = skus.choose(&mut rng).ok_or_else(|| anyhow::anyhow!("no SKUs"))?;
                Ok(Request {
                    token: Some(token.to_owned()),
                    checkout: Some((
                        format!("bench-{run}-{n}"),
                        format!(r#"{{"address_id":"{address}","items":[{{"sku_id":"{sku}","quantity":1}}]}}"#),
                    )),
                    ..Request::get("/api/v1/checkout".to_owned())
                })
            }
            [like, _, _] if like == "like" => {
                // Pair n of every member with every note, liked in even rounds, unliked in odd.
                let pairs = (tokens.len() * skus.len()).max(1) as u64;
                let pair = (n % pairs) as usize;
                let token = tokens.get(pair % tokens.len().max(1)).cloned();
                let note = skus.get(pair / tokens.len().max(1)).ok_or_else(|| anyhow::anyhow!("no notes"))?;
                let method = if (n / pairs).is_multiple_of(2) { reqwest::Method::PUT } else { reqwest::Method::DELETE };
                Ok(Request {
                    token,
                    method,
                    ..Request::get(format!("/api/v1/notes/{note}/like"))
                })
            }
            [path] if path.starts_with('/') => Ok(Request::get(path.clone())),
            _ => Err(anyhow::anyhow!(usage)),
        })
        .collect::<anyhow::Result<_>>()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1_000)
        .build()?;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let failures = Arc::new(Mutex::new(0u64));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for (n, planned) in requests.into_iter().enumerate() {
        let due = started + interval * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let (client, latencies, failures) = (client.clone(), latencies.clone(), failures.clone());
        let url = format!("{base}{}", planned.path);
        tasks.push(tokio::spawn(async move {
            let mut request = match planned.checkout {
                Some((key, body)) => client
                    .post(&url)
                    .header("Idempotency-Key", key)
                    .header("content-type", "application/json")
                    .body(body),
                None => client.request(planned.method, &url),
            };
            if let Some(token) = planned.token {
                request = request.bearer_auth(token);
            }
            let ok = match request.send().await {
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

/// One request of the schedule: `method` without a body, or with `checkout` (idempotency key,
/// JSON body) a POST.
struct Request {
    path: String,
    method: reqwest::Method,
    token: Option<String>,
    checkout: Option<(String, String)>,
}

impl Request {
    fn get(path: String) -> Request {
        Request {
            path,
            method: reqwest::Method::GET,
            token: None,
            checkout: None,
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
