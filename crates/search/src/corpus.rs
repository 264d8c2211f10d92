//! A generated corpus of notes in mixed Chinese and English with known answers, for the
//! evaluation and the benchmarks (feature `corpus`).
//!
//! Filler words follow a Zipf distribution over a vocabulary of everyday words, as real text
//! does. Into some notes a *concept* is planted — a product or place written the way people
//! write it: Chinese inside sentences with no spaces, English in any case and in singular or
//! plural. A note that names the concept in its title too is graded 2 (about it), a mention in
//! the body alone is graded 1. Other notes carry *near misses*: words that contain the concept
//! as a substring but mean something else (大理石 is marble, not 大理; "party" is not "art"),
//! which a substring index finds and a word index must not.

use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::NoteDoc;

/// What a query is looking for, how people write it, and what it must not be confused with.
pub struct Concept {
    pub query: &'static str,
    pub chinese: bool,
    pub forms: &'static [&'static str],
    pub near_misses: &'static [&'static str],
}

const fn zh(
    query: &'static str,
    forms: &'static [&'static str],
    near_misses: &'static [&'static str],
) -> Concept {
    Concept {
        query,
        chinese: true,
        forms,
        near_misses,
    }
}

const fn en(
    query: &'static str,
    forms: &'static [&'static str],
    near_misses: &'static [&'static str],
) -> Concept {
    Concept {
        query,
        chinese: false,
        forms,
        near_misses,
    }
}

/// The labelled query set: 20 Chinese and 20 English queries.
pub const CONCEPTS: &[Concept] = &[
    zh("防晒霜", &["防晒霜"], &[]),
    zh("粉底液", &["粉底液"], &[]),
    zh("口红", &["口红"], &[]),
    zh("火锅", &["火锅"], &[]),
    zh("露营", &["露营"], &[]),
    zh("咖啡", &["咖啡"], &["咖啡色"]),
    zh("瑜伽", &["瑜伽"], &[]),
    zh("大理", &["大理"], &["大理石"]),
    zh("面膜", &["面膜"], &[]),
    zh("羽绒服", &["羽绒服"], &[]),
    zh("烘焙", &["烘焙"], &[]),
    zh("收纳", &["收纳"], &[]),
    zh("跑步", &["跑步"], &[]),
    zh("香水", &["香水"], &[]),
    zh("民宿", &["民宿"], &[]),
    zh("耳机", &["耳机"], &[]),
    zh("和服", &["和服"], &["和服务员"]),
    zh("上海", &["上海"], &["马上海边"]),
    zh("学生", &["学生"], &["同学生日"]),
    zh("北京烤鸭", &["北京烤鸭"], &[]),
    en("sunscreen", &["sunscreen", "Sunscreens", "SUNSCREEN"], &[]),
    en("lipstick", &["lipstick", "Lipsticks"], &[]),
    en("hiking boots", &["hiking boots", "Hiking Boot"], &[]),
    en("espresso", &["espresso", "Espressos"], &[]),
    en(
        "yoga mat",
        &["yoga mat", "Yoga Mats"],
        &["matcha after yoga"],
    ),
    en("dumplings", &["dumpling", "Dumplings"], &[]),
    en("backpack", &["backpack", "Backpacks"], &[]),
    en("moisturizer", &["moisturizer", "Moisturizers"], &[]),
    en("sneakers", &["sneaker", "Sneakers"], &[]),
    en("sourdough", &["sourdough", "Sourdough"], &[]),
    en("headphones", &["headphones", "Headphone"], &[]),
    en("perfume", &["perfume", "Perfumes"], &[]),
    en("ramen", &["ramen", "Ramen"], &[]),
    en("candles", &["candle", "Candles"], &["candlelight"]),
    en("kayaking", &["kayaking", "Kayak"], &[]),
    en("skateboard", &["skateboard", "Skateboards"], &[]),
    en("art", &["art", "Arts"], &["party", "smart", "started"]),
    en("tea", &["tea", "Teas"], &["team", "steak", "instead"]),
    en("cat", &["cat", "Cats"], &["category", "education"]),
    en("pan", &["pan", "Pans"], &["panda", "company", "spanish"]),
];

/// Everyday Chinese words, most common first.
const ZH_WORDS: &[&str] = &[
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
    "喜欢",
    "下次",
    "还会",
    "质量",
    "味道",
    "颜色",
    "城市",
    "心情",
    "早上",
    "晚上",
    "好看",
    "好吃",
    "便宜",
    "方便",
    "舒服",
    "简单",
    "漂亮",
    "可爱",
    "安静",
    "热闹",
    "干净",
    "新鲜",
    "温柔",
    "自然",
    "生活",
    "工作",
    "学习",
    "旅行",
    "拍照",
    "做饭",
    "逛街",
    "购物",
    "休息",
    "运动",
    "散步",
    "聊天",
    "天气",
    "阳光",
    "下雨",
    "春天",
    "夏天",
    "秋天",
    "冬天",
    "海边",
    "山上",
    "公园",
    "小区",
    "地铁",
    "餐厅",
    "商场",
    "超市",
    "书店",
    "酒店",
    "机场",
    "学校",
    "医院",
    "家里",
    "楼下",
    "附近",
    "路上",
    "妈妈",
    "爸爸",
    "孩子",
    "同事",
    "老师",
    "闺蜜",
    "男朋友",
    "女朋友",
    "小狗",
    "小猫",
    "邻居",
    "老板",
    "衣服",
    "裤子",
    "鞋子",
    "包包",
    "帽子",
    "围巾",
    "手机",
    "电脑",
    "相机",
    "书包",
    "杯子",
    "桌子",
    "米饭",
    "面条",
    "水果",
    "蔬菜",
    "牛奶",
    "鸡蛋",
    "蛋糕",
    "奶茶",
    "啤酒",
    "果汁",
    "零食",
    "早餐",
    "效果",
    "体验",
    "细节",
    "设计",
    "材质",
    "包装",
    "服务",
    "环境",
    "氛围",
    "风格",
    "搭配",
    "尺寸",
    "值得",
    "满意",
    "失望",
    "惊喜",
    "后悔",
    "期待",
    "开心",
    "难过",
    "紧张",
    "放松",
    "习惯",
    "坚持",
    "攻略",
    "教程",
    "清单",
    "日记",
    "笔记",
    "合集",
    "测评",
    "对比",
    "种草",
    "拔草",
    "好物",
    "宝藏",
];

/// Everyday English words, most common first.
const EN_WORDS: &[&str] = &[
    "today",
    "really",
    "love",
    "friends",
    "weekend",
    "together",
    "price",
    "nice",
    "share",
    "first",
    "time",
    "again",
    "quality",
    "colour",
    "city",
    "mood",
    "morning",
    "little",
    "great",
    "found",
    "evening",
    "night",
    "pretty",
    "tasty",
    "cheap",
    "easy",
    "comfy",
    "simple",
    "lovely",
    "cute",
    "quiet",
    "busy",
    "clean",
    "fresh",
    "gentle",
    "natural",
    "life",
    "work",
    "study",
    "travel",
    "photo",
    "cooking",
    "shopping",
    "rest",
    "walk",
    "chat",
    "weather",
    "sunshine",
    "rain",
    "spring",
    "summer",
    "autumn",
    "winter",
    "beach",
    "mountain",
    "garden",
    "street",
    "subway",
    "restaurant",
    "mall",
    "market",
    "bookshop",
    "hotel",
    "airport",
    "school",
    "home",
    "nearby",
    "road",
    "mother",
    "father",
    "kids",
    "colleague",
    "teacher",
    "bestie",
    "boyfriend",
    "puppy",
    "neighbour",
    "jacket",
    "jeans",
    "shoes",
    "bag",
    "hat",
    "scarf",
    "phone",
    "laptop",
    "camera",
    "cup",
    "table",
    "rice",
    "noodles",
    "fruit",
    "vegetables",
    "milk",
    "eggs",
    "cake",
    "juice",
    "snacks",
    "breakfast",
    "result",
    "experience",
    "details",
    "design",
    "fabric",
    "packaging",
    "service",
    "vibe",
    "style",
    "outfit",
    "size",
    "worth",
    "happy",
    "surprise",
    "relax",
    "habit",
    "guide",
    "tutorial",
    "list",
    "diary",
    "notes",
    "review",
    "compare",
    "favourite",
    "treasure",
];

/// A generated note and the concepts planted in it, with their grades.
pub struct Generated {
    pub note: NoteDoc,
    /// (index into [`CONCEPTS`], grade 1 or 2).
    pub planted: Vec<(usize, u8)>,
}

/// A deterministic stream of notes and queries.
pub struct Corpus {
    rng: StdRng,
    next_id: i64,
    zh: WeightedIndex<f64>,
    en: WeightedIndex<f64>,
}

/// Zipf weights: the word of rank r is used in proportion to 1/r.
fn zipf(n: usize) -> WeightedIndex<f64> {
    WeightedIndex::new((1..=n).map(|rank| 1.0 / rank as f64)).expect("weights")
}

/// Notes carry a concept this often, and a near miss this often.
const PLANTED: f64 = 0.3;
const NEAR_MISS: f64 = 0.05;
/// Notes are spread over this many days before `now_ms`.
const DAYS: i64 = 30;

impl Corpus {
    pub fn new(seed: u64) -> Corpus {
        Corpus {
            rng: StdRng::seed_from_u64(seed),
            next_id: 1,
            zh: zipf(ZH_WORDS.len()),
            en: zipf(EN_WORDS.len()),
        }
    }

    fn word(&mut self, chinese: bool) -> &'static str {
        if chinese {
            ZH_WORDS[self.zh.sample(&mut self.rng)]
        } else {
            EN_WORDS[self.en.sample(&mut self.rng)]
        }
    }

    /// Filler words, with `inserted` placed among them at a random position.
    fn sentence(&mut self, chinese: bool, words: usize, inserted: Option<&str>) -> String {
        let mut out: Vec<&str> = (0..words).map(|_| self.word(chinese)).collect();
        if let Some(text) = inserted {
            let at = self.rng.gen_range(0..=out.len());
            out.insert(at, text);
        }
        out.join(if chinese { "" } else { " " })
    }

    /// The next note: a Chinese or English title and three to five sentences.
    pub fn note(&mut self, now_ms: i64) -> Generated {
        let id = self.next_id;
        self.next_id += 1;
        let chinese = self.rng.gen_bool(0.5);
        let mut planted = Vec::new();
        let mut title_insert = None;
        let mut body_inserts: Vec<(bool, String)> = Vec::new();
        if self.rng.gen_bool(PLANTED) {
            let which = self.rng.gen_range(0..CONCEPTS.len());
            let concept = &CONCEPTS[which];
            let form = *concept.forms.choose(&mut self.rng).expect("a form");
            body_inserts.push((concept.chinese, form.to_owned()));
            if self.rng.gen_bool(0.3) {
                title_insert = Some(form);
                planted.push((which, 2));
            } else {
                planted.push((which, 1));
            }
        }
        if self.rng.gen_bool(NEAR_MISS) {
            let tricky: Vec<&Concept> = CONCEPTS
                .iter()
                .filter(|c| !c.near_misses.is_empty())
                .collect();
            let concept = tricky.choose(&mut self.rng).expect("a concept");
            let miss = concept.near_misses.choose(&mut self.rng).expect("a miss");
            body_inserts.push((concept.chinese, (*miss).to_owned()));
        }
        let title_words = self.rng.gen_range(3..7);
        let title = self.sentence(chinese, title_words, title_insert);
        let mut body: Vec<String> = (0..self.rng.gen_range(3..6))
            .map(|_| {
                let words = self.rng.gen_range(4..10);
                self.sentence(chinese, words, None)
            })
            .collect();
        for (in_chinese, text) in body_inserts {
            let words = self.rng.gen_range(4..10);
            body.push(self.sentence(in_chinese, words, Some(&text)));
        }
        body.shuffle(&mut self.rng);
        let note = NoteDoc {
            id,
            title,
            body: body.join(if chinese { "。" } else { ". " }),
            author_id: self.rng.gen_range(1..=100_000),
            engagement: (self.rng.gen::<f64>().powi(4) * 5_000.0) as u64,
            created_at_ms: now_ms - self.rng.gen_range(0..DAYS * 86_400_000),
        };
        Generated { note, planted }
    }

    /// A two-word query: two Chinese words, two English words, or one of each.
    pub fn two_term_query(&mut self, draw: Draw) -> String {
        let (first, second) = match self.rng.gen_range(0..3) {
            0 => (true, true),
            1 => (false, false),
            _ => (true, false),
        };
        format!(
            "{} {}",
            self.query_word(first, draw),
            self.query_word(second, draw)
        )
    }

    fn query_word(&mut self, chinese: bool, draw: Draw) -> &'static str {
        let words = if chinese { ZH_WORDS } else { EN_WORDS };
        match draw {
            Draw::Frequency => self.word(chinese),
            Draw::Content => words[self.rng.gen_range(COMMON..words.len())],
        }
    }
}

/// Words this common are the language's glue (今天, really); people rarely search for them.
const COMMON: usize = 20;

/// How query words are drawn.
#[derive(Debug, Clone, Copy)]
pub enum Draw {
    /// Uniformly from the words past the most common ones: what people search for.
    Content,
    /// With the corpus's own frequencies, so that most queries pair very common words — a worst
    /// case in which one query matches a large part of the corpus.
    Frequency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_plants_what_it_says() {
        let mut a = Corpus::new(7);
        let mut b = Corpus::new(7);
        for _ in 0..200 {
            let (x, y) = (a.note(0), b.note(0));
            assert_eq!((&x.note.title, &x.note.body), (&y.note.title, &y.note.body));
            for (which, grade) in x.planted {
                let concept = &CONCEPTS[which];
                assert!(concept.forms.iter().any(|f| x.note.body.contains(f)));
                if grade == 2 {
                    assert!(concept.forms.iter().any(|f| x.note.title.contains(f)));
                }
            }
        }
        assert_eq!(CONCEPTS.iter().filter(|c| c.chinese).count(), 20);
        assert_eq!(CONCEPTS.len(), 40);
    }
}
