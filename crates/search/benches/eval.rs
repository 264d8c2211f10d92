//! Search quality on a labelled query set: `cargo bench -p search --bench eval`.
//!
//! A corpus of 5,000 notes is generated with concepts planted in known notes — Chinese words
//! written inside sentences with no spaces, English words in different cases and plural forms
//! — among filler text that contains none of them. Each of the 32 queries (16 Chinese, 16
//! English) should find exactly the notes its concept was planted in. Reported: recall@10 and
//! nDCG@10 (binary relevance), per language and overall. Text relevance only: engagement and
//! freshness weights are 0 here.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use search::{Kind, NoteDoc, Query, SearchIndex, Sort, Weights};

const NOTES: usize = 5_000;

/// (query, forms planted in notes).
const CHINESE: &[(&str, &[&str])] = &[
    ("防晒霜", &["防晒霜"]),
    ("粉底液", &["粉底液"]),
    ("口红", &["口红"]),
    ("火锅", &["火锅"]),
    ("露营", &["露营"]),
    ("咖啡", &["咖啡"]),
    ("瑜伽", &["瑜伽"]),
    ("大理", &["大理"]),
    ("面膜", &["面膜"]),
    ("羽绒服", &["羽绒服"]),
    ("烘焙", &["烘焙"]),
    ("收纳", &["收纳"]),
    ("跑步", &["跑步"]),
    ("香水", &["香水"]),
    ("民宿", &["民宿"]),
    ("耳机", &["耳机"]),
];

const ENGLISH: &[(&str, &[&str])] = &[
    ("sunscreen", &["sunscreen", "Sunscreens", "SUNSCREEN"]),
    ("lipstick", &["lipstick", "Lipsticks"]),
    ("hiking boots", &["hiking boots", "Hiking Boot"]),
    ("espresso", &["espresso", "Espressos"]),
    ("yoga mat", &["yoga mat", "Yoga Mats"]),
    ("dumplings", &["dumpling", "Dumplings"]),
    ("backpack", &["backpack", "Backpacks"]),
    ("moisturizer", &["moisturizer", "Moisturizers"]),
    ("sneakers", &["sneaker", "Sneakers"]),
    ("sourdough", &["sourdough", "Sourdough"]),
    ("headphones", &["headphones", "Headphone"]),
    ("perfume", &["perfume", "Perfumes"]),
    ("ramen", &["ramen", "Ramen"]),
    ("candles", &["candle", "Candles"]),
    ("kayaking", &["kayaking", "Kayak"]),
    ("skateboard", &["skateboard", "Skateboards"]),
];

const ZH_FILLER: &[&str] = &[
    "今天",
    "真的",
    "非常",
    "推荐",
    "朋友",
    "周末",
    "一起",
    "感觉",
    "价格",
    "不错",
    "分享",
    "第一次",
    "很喜欢",
    "下次",
    "还会",
    "质量",
    "味道",
    "颜色",
    "城市",
    "心情",
];
const EN_FILLER: &[&str] = &[
    "today", "really", "love", "friends", "weekend", "together", "price", "nice", "share", "first",
    "time", "again", "quality", "colour", "city", "mood", "morning", "little", "great", "found",
];

struct Labelled {
    query: &'static str,
    chinese: bool,
    relevant: HashSet<i64>,
}

fn sentence(rng: &mut StdRng, chinese: bool, planted: Option<&str>) -> String {
    let words: Vec<&str> = (0..rng.gen_range(4..10))
        .map(|_| {
            *if chinese { ZH_FILLER } else { EN_FILLER }
                .choose(rng)
                .expect("filler")
        })
        .collect();
    let mut words: Vec<String> = words.into_iter().map(str::to_owned).collect();
    if let Some(planted) = planted {
        let at = rng.gen_range(0..=words.len());
        words.insert(at, planted.to_owned());
    }
    words.join(if chinese { "" } else { " " })
}

fn main() {
    let mut rng = StdRng::seed_from_u64(42);
    let mut labels: Vec<Labelled> = CHINESE
        .iter()
        .map(|(q, _)| Labelled {
            query: q,
            chinese: true,
            relevant: HashSet::new(),
        })
        .chain(ENGLISH.iter().map(|(q, _)| Labelled {
            query: q,
            chinese: false,
            relevant: HashSet::new(),
        }))
        .collect();
    let index = SearchIndex::in_memory().expect("index");
    let mut notes = Vec::with_capacity(NOTES);
    for id in 1..=NOTES as i64 {
        // About a third of the notes carry one concept, a few carry two.
        let mut planted: Vec<(usize, &str)> = Vec::new();
        for _ in 0..2 {
            if rng.gen_bool(0.35) {
                let which = rng.gen_range(0..labels.len());
                let forms = if which < CHINESE.len() {
                    CHINESE[which].1
                } else {
                    ENGLISH[which - CHINESE.len()].1
                };
                planted.push((which, forms.choose(&mut rng).expect("forms")));
            }
        }
        let chinese_note = rng.gen_bool(0.5);
        let mut body: Vec<String> = (0..3)
            .map(|_| sentence(&mut rng, chinese_note, None))
            .collect();
        for (which, form) in &planted {
            labels[*which].relevant.insert(id);
            body.push(sentence(&mut rng, labels[*which].chinese, Some(form)));
        }
        body.shuffle(&mut rng);
        notes.push(NoteDoc {
            id,
            title: sentence(&mut rng, chinese_note, None)
                .chars()
                .take(20)
                .collect(),
            body: body.join(if chinese_note { "。" } else { ". " }),
            author_id: id % 97,
            engagement: rng.gen_range(0..500),
            created_at_ms: 0,
        });
    }
    index.upsert_notes(&notes).expect("indexing");
    index.commit().expect("commit");

    let weights = Weights {
        engagement: 0.0,
        half_life_days: 0.0,
    };
    let mut rows = Vec::new();
    for label in &labels {
        let query = Query {
            text: label.query,
            kind: Kind::Note,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            excluded_authors: &[],
            now_ms: 0,
        };
        let hits: Vec<i64> = index
            .search(&query, weights)
            .expect("search")
            .into_iter()
            .map(|h| h.id)
            .collect();
        let found = hits.iter().filter(|id| label.relevant.contains(id)).count();
        let ideal = label.relevant.len().min(10);
        let recall = if ideal == 0 {
            1.0
        } else {
            found as f64 / ideal as f64
        };
        let dcg: f64 = hits
            .iter()
            .enumerate()
            .filter(|(_, id)| label.relevant.contains(id))
            .map(|(rank, _)| 1.0 / ((rank + 2) as f64).log2())
            .sum();
        let idcg: f64 = (0..ideal)
            .map(|rank| 1.0 / ((rank + 2) as f64).log2())
            .sum();
        let ndcg = if idcg == 0.0 { 1.0 } else { dcg / idcg };
        rows.push((
            label.chinese,
            label.query,
            label.relevant.len(),
            recall,
            ndcg,
        ));
    }
    println!("{NOTES} generated notes, {} labelled queries", rows.len());
    println!("| queries | recall@10 | nDCG@10 |");
    println!("|---|---:|---:|");
    for (name, filter) in [
        ("Chinese", Some(true)),
        ("English", Some(false)),
        ("all", None),
    ] {
        let chosen: Vec<_> = rows
            .iter()
            .filter(|r| filter.is_none_or(|c| r.0 == c))
            .collect();
        let mean = |f: fn(&&(bool, &str, usize, f64, f64)) -> f64| {
            chosen.iter().map(f).sum::<f64>() / chosen.len() as f64
        };
        println!(
            "| {name} ({}) | {:.3} | {:.3} |",
            chosen.len(),
            mean(|r| r.3),
            mean(|r| r.4)
        );
    }
    let misses: Vec<String> = rows
        .iter()
        .filter(|r| r.3 < 1.0)
        .map(|r| format!("{} ({:.2})", r.1, r.3))
        .collect();
    println!(
        "queries below full recall: {}",
        if misses.is_empty() {
            "none".to_owned()
        } else {
            misses.join(", ")
        }
    );
}
