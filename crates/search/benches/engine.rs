//! The search engine against SQLite FTS5 (trigram tokenizer), side by side on one generated
//! corpus: `cargo bench -p search --bench engine` (1,000,000 notes; `HONGSHU_BENCH_NOTES=5000`
//! for a quick run).
//!
//! 1. Bulk indexing rate of each, into an index on disk.
//! 2. Quality on the labelled query set ([`search::corpus::CONCEPTS`]: 20 Chinese, 20 English
//!    queries, graded relevance, near misses planted): recall@10 and nDCG@10 on the first page,
//!    recall and precision over all results. Text relevance only for this part (engagement and
//!    freshness weights 0), FTS5 ordered by its bm25 rank.
//! 3. Latency of two-term queries (a page of 20 with snippets in the engine; a page of 20 rowids
//!    in FTS5): p50, p90, p99, max, and the ratio; once for queries of content words, once for
//!    words drawn with the corpus's frequencies (a worst case of very broad queries).
//!
//! FTS5's trigram tokenizer cannot match a term shorter than three characters — most Chinese
//! words have two — so such terms become `LIKE '%term%'` conditions, as an application using
//! it would have to write them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use search::corpus::{Corpus, Draw, CONCEPTS};
use search::{Kind, NoteDoc, Query, SearchIndex, Sort, Weights};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

const NOW_MS: i64 = 1_790_000_000_000;
const LATENCY_QUERIES: usize = 1_000;
const PAGE: usize = 20;

fn main() {
    let notes: usize = std::env::var("HONGSHU_BENCH_NOTES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let folder = tempfile::tempdir().expect("a temporary folder");
    println!("corpus: {notes} generated notes, mixed Chinese and English");

    let mut corpus = Corpus::new(42);
    let mut labels: Vec<HashMap<i64, u8>> = vec![HashMap::new(); CONCEPTS.len()];
    let docs: Vec<NoteDoc> = (0..notes)
        .map(|_| {
            let generated = corpus.note(NOW_MS);
            for (which, grade) in generated.planted {
                labels[which].insert(generated.note.id, grade);
            }
            generated.note
        })
        .collect();
    let query_sets: Vec<(&str, Vec<String>)> = [
        ("content words", Draw::Content),
        ("words by corpus frequency (worst case)", Draw::Frequency),
    ]
    .into_iter()
    .map(|(name, draw)| {
        let queries = (0..LATENCY_QUERIES)
            .map(|_| corpus.two_term_query(draw))
            .collect();
        (name, queries)
    })
    .collect();

    let engine = index_engine(&folder.path().join("engine"), &docs);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let fts = runtime.block_on(index_fts(&folder.path().join("fts.db"), &docs));
    drop(docs);

    println!("\n## Quality on the labelled set\n");
    println!("recall@10 and nDCG@10 on the first page; recall and precision over every result.\n");
    println!("| queries | engine recall@10 | engine nDCG@10 | engine recall | engine precision | FTS5 recall@10 | FTS5 nDCG@10 | FTS5 recall | FTS5 precision |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let text_only = Weights {
        engagement: 0.0,
        half_life_days: 0.0,
    };
    let engine_scores: Vec<Scores> = CONCEPTS
        .iter()
        .zip(&labels)
        .map(|(c, l)| Scores::of(&engine_top(&engine, c.query, notes, text_only), l))
        .collect();
    let fts_scores: Vec<Scores> = CONCEPTS
        .iter()
        .zip(&labels)
        .map(|(c, l)| Scores::of(&runtime.block_on(fts_top(&fts, c.query, notes)), l))
        .collect();
    for (name, chinese) in [
        ("Chinese", Some(true)),
        ("English", Some(false)),
        ("all", None),
    ] {
        let chosen: Vec<usize> = (0..CONCEPTS.len())
            .filter(|i| chinese.is_none_or(|c| CONCEPTS[*i].chinese == c))
            .collect();
        let mean = |scores: &[Scores], pick: fn(&Scores) -> f64| {
            let sum: f64 = chosen.iter().map(|i| pick(&scores[*i])).sum();
            format!("{:.3}", sum / chosen.len() as f64)
        };
        let columns: Vec<String> = [&engine_scores, &fts_scores]
            .into_iter()
            .flat_map(|scores| {
                [
                    mean(scores, |s| s.recall_at_10),
                    mean(scores, |s| s.ndcg_at_10),
                    mean(scores, |s| s.recall),
                    mean(scores, |s| s.precision),
                ]
            })
            .collect();
        println!("| {name} ({}) | {} |", chosen.len(), columns.join(" | "));
    }
    for (name, scores) in [("engine", &engine_scores), ("FTS5", &fts_scores)] {
        let weak: Vec<String> = CONCEPTS
            .iter()
            .zip(scores)
            .filter(|(_, s)| s.ndcg_at_10 < 0.9 || s.recall < 0.99 || s.precision < 0.99)
            .map(|(c, s)| {
                format!(
                    "{} ({:.2}/{:.2}/{:.2}/{:.2})",
                    c.query, s.recall_at_10, s.ndcg_at_10, s.recall, s.precision
                )
            })
            .collect();
        println!(
            "{name}: queries below nDCG@10 0.9 or recall or precision 0.99: {}",
            if weak.is_empty() {
                "none".to_owned()
            } else {
                weak.join(", ")
            }
        );
    }

    let weights = Weights {
        engagement: 0.3,
        half_life_days: 30.0,
    };
    for (name, queries) in &query_sets {
        println!("\n## Two-term queries of {name}, a page of {PAGE} ({LATENCY_QUERIES} queries)\n");
        for query in queries.iter().take(50) {
            engine_top(&engine, query, PAGE, weights);
        }
        let engine_times = timed(queries, |q| {
            engine_top(&engine, q, PAGE, weights);
        });
        let fts_times = timed(queries, |q| {
            runtime.block_on(fts_top(&fts, q, PAGE));
        });
        println!("| | p50 | p90 | p99 | max |");
        println!("|---|---:|---:|---:|---:|");
        for (name, times) in [("engine", &engine_times), ("SQLite FTS5", &fts_times)] {
            println!(
                "| {name} | {} | {} | {} | {} |",
                ms(percentile(times, 0.50)),
                ms(percentile(times, 0.90)),
                ms(percentile(times, 0.99)),
                ms(percentile(times, 1.0)),
            );
        }
        let ratio = |p| {
            percentile(&fts_times, p).as_secs_f64() / percentile(&engine_times, p).as_secs_f64()
        };
        println!(
            "FTS5 / engine: p50 ×{:.1}, p99 ×{:.1}",
            ratio(0.5),
            ratio(0.99)
        );
    }
}

/// Bulk-loads the engine as `hongshu reindex` does: pages of 2,000, a commit per 50,000.
fn index_engine(folder: &std::path::Path, docs: &[NoteDoc]) -> SearchIndex {
    std::fs::create_dir_all(folder).expect("folder");
    let index = SearchIndex::open_or_create(folder).expect("index");
    let started = Instant::now();
    for (n, page) in docs.chunks(2_000).enumerate() {
        index.upsert_notes(page).expect("indexing");
        if (n + 1) % 25 == 0 {
            index.commit().expect("commit");
        }
    }
    index.commit().expect("commit");
    index.wait_merging_threads().expect("merges");
    let took = started.elapsed();
    println!(
        "engine bulk indexing: {:.0} notes/s ({:.1} s, on disk, merges included)",
        docs.len() as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    SearchIndex::open_or_create(folder).expect("index")
}

async fn index_fts(path: &std::path::Path, docs: &[NoteDoc]) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("SQLite");
    sqlx::query("CREATE VIRTUAL TABLE notes USING fts5(title, body, tokenize = 'trigram')")
        .execute(&pool)
        .await
        .expect("FTS5 with the trigram tokenizer");
    let started = Instant::now();
    for page in docs.chunks(10_000) {
        let mut tx = pool.begin().await.expect("transaction");
        for doc in page {
            sqlx::query("INSERT INTO notes (rowid, title, body) VALUES (?, ?, ?)")
                .bind(doc.id)
                .bind(&doc.title)
                .bind(&doc.body)
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    sqlx::query("INSERT INTO notes (notes) VALUES ('optimize')")
        .execute(&pool)
        .await
        .expect("optimize");
    let took = started.elapsed();
    println!(
        "SQLite FTS5 (trigram) bulk indexing: {:.0} notes/s ({:.1} s, optimize included)",
        docs.len() as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    pool
}

fn engine_top(index: &SearchIndex, text: &str, limit: usize, weights: Weights) -> Vec<i64> {
    let query = Query {
        text,
        kind: Kind::Note,
        sort: Sort::Relevance,
        offset: 0,
        limit,
        excluded_authors: &[],
        now_ms: NOW_MS,
    };
    let hits = index.search(&query, weights).expect("search");
    hits.into_iter().map(|h| h.id).collect()
}

/// Every word must appear (as the engine requires): words of three or more characters through
/// the trigram index, shorter ones by substring scan.
async fn fts_top(pool: &SqlitePool, text: &str, limit: usize) -> Vec<i64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (indexed, short): (Vec<&str>, Vec<&str>) =
        words.iter().partition(|w| w.chars().count() >= 3);
    let mut conditions = Vec::new();
    if !indexed.is_empty() {
        conditions.push("notes MATCH ?".to_owned());
    }
    for _ in &short {
        conditions.push("(title LIKE ? OR body LIKE ?)".to_owned());
    }
    let order = if indexed.is_empty() { "rowid" } else { "rank" };
    let sql = format!(
        "SELECT rowid FROM notes WHERE {} ORDER BY {order} LIMIT {limit}",
        conditions.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    if !indexed.is_empty() {
        let phrases: Vec<String> = indexed
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        query = query.bind(phrases.join(" AND "));
    }
    for word in &short {
        let pattern = format!("%{word}%");
        query = query.bind(pattern.clone()).bind(pattern);
    }
    query
        .fetch_all(pool)
        .await
        .expect("FTS5 query")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

struct Scores {
    recall_at_10: f64,
    /// Graded gains, 2^grade − 1.
    ndcg_at_10: f64,
    /// Of every relevant note, the share found at all.
    recall: f64,
    /// Of every result, the share that is relevant.
    precision: f64,
}

impl Scores {
    fn of(hits: &[i64], relevant: &HashMap<i64, u8>) -> Scores {
        let top = &hits[..hits.len().min(10)];
        let found_in_top = top.iter().filter(|id| relevant.contains_key(id)).count();
        let found = hits.iter().filter(|id| relevant.contains_key(id)).count();
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let gain =
            |grade: u8, rank: usize| (2f64.powi(grade.into()) - 1.0) / ((rank + 2) as f64).log2();
        let dcg: f64 = top
            .iter()
            .enumerate()
            .map(|(rank, id)| gain(relevant.get(id).copied().unwrap_or(0), rank))
            .sum();
        let mut grades: Vec<u8> = relevant.values().copied().collect();
        grades.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = grades
            .iter()
            .take(10)
            .enumerate()
            .map(|(rank, grade)| gain(*grade, rank))
            .sum();
        Scores {
            recall_at_10: ratio(found_in_top, relevant.len().min(10)),
            ndcg_at_10: if idcg == 0.0 { 1.0 } else { dcg / idcg },
            recall: ratio(found, relevant.len()),
            precision: ratio(found, hits.len()),
        }
    }
}

fn timed(queries: &[String], mut run: impl FnMut(&str)) -> Vec<Duration> {
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let started = Instant::now();
            run(q);
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    times
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
