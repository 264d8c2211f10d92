//! The demo community that `hongshu seed --demo` (and `hongshu serve --demo` on an empty
//! database) creates: members, brands with their stores and products, notes in Chinese and
//! English across the main topics with images drawn here (some showing the brands' products),
//! follows, likes, collects and comments, and orders bought from notes, paid in the sandbox,
//! delivered and reviewed. Everything goes through the domain services, so the demo obeys the same rules as
//! real use.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use kernel::Id;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::accounts::types::User;
use crate::accounts::{service as accounts, store as account_store};
use crate::config::Config;
use crate::error::AppResult;
use crate::notes::service::{self as notes, Draft};
use crate::notes::types::Visibility;
use crate::orders::service as orders;
use crate::orders::types::{AddressDraft, CheckoutRequest, LineRequest, ReviewDraft};
use crate::orgs::{service as orgs, types::StaffRole};
use crate::payments::service::{self as payments, Notice};
use crate::shop::service::{self as shop, ProductDraft, StoreDraft};
use crate::shop::types::{ProductState, Shipping, SkuDraft};
use crate::social::service as social;
use crate::state::AppState;

/// How big a community to make.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    pub members: usize,
    pub notes: usize,
}

impl DemoSize {
    /// What `seed --demo` makes: a few dozen members and several hundred notes.
    pub const FULL: DemoSize = DemoSize {
        members: 40,
        notes: 360,
    };
}

/// (handle, display name, bio) of the members everyone meets first.
const FEATURED: &[(&str, &str, &str)] = &[
    (
        "lin_xiaohong",
        "林小红",
        "上海 · 护肤和咖啡爱好者 ☕\nSkincare notes from Shanghai.",
    ),
    (
        "mountain.lee",
        "Lee Shan",
        "Hiking every weekend. 周末一定在爬山。",
    ),
    (
        "chef_wang",
        "王大厨",
        "家常菜三十年 · Home cooking, no shortcuts.",
    ),
    (
        "mia.styles",
        "Mia",
        "Fashion on a student budget. 学生党穿搭。",
    ),
    ("yu_travels", "于途", "走过 40 个城市，记录好住好吃的地方。"),
];

const GIVEN: &[&str] = &[
    "小雨", "晓晨", "Anna", "子涵", "Leo", "思远", "Chloe", "一诺", "Max", "梓萱", "Iris", "浩然",
    "Yuki", "佳怡", "Sam", "雨桐",
];
const SURNAME: &[&str] = &[
    "陈", "张", "Li", "王", "Zhou", "刘", "Wu", "赵", "Sun", "黄",
];

/// A topic, its colours, and titles and lines people write about it, in both languages.
struct Topic {
    name: &'static str,
    palette: [[u8; 3]; 3],
    titles: &'static [&'static str],
    lines: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        name: "beauty",
        palette: [[255, 205, 210], [244, 143, 177], [255, 241, 230]],
        titles: &[
            "夏日防晒测评",
            "平价粉底液推荐",
            "Sunscreen that works",
            "敏感肌护肤步骤",
            "My 5-step routine",
            "口红试色合集",
        ],
        lines: &[
            "用了一个月，真的不闷痘！#防晒 #护肤",
            "油皮亲妈，持妆八小时 #美妆",
            "Light, no white cast, reapplies over makeup. #sunscreen #beauty",
            "敏感肌一定要先做耳后测试 #护肤",
            "Double cleanse, toner, serum, moisturiser, SPF. #skincare #beauty",
        ],
    },
    Topic {
        name: "fashion",
        palette: [[207, 216, 220], [84, 110, 122], [255, 224, 178]],
        titles: &[
            "一周通勤穿搭",
            "Thrift haul",
            "小个子显高技巧",
            "Capsule wardrobe",
            "秋冬大衣怎么选",
        ],
        lines: &[
            "基础款叠穿，一件大衣穿出五种感觉 #穿搭 #fashion",
            "Found this wool coat for 80 yuan. #thrift #fashion",
            "高腰裤加短上衣，显高十厘米 #穿搭",
            "Twelve pieces, thirty outfits. #capsulewardrobe #fashion",
        ],
    },
    Topic {
        name: "food",
        palette: [[255, 224, 130], [255, 138, 101], [197, 225, 165]],
        titles: &[
            "十分钟快手早餐",
            "红烧肉的秘诀",
            "Dumpling hunt",
            "周末烘焙",
            "Weeknight noodles",
        ],
        lines: &[
            "鸡蛋、吐司、牛油果，十分钟搞定 #早餐 #美食",
            "冰糖炒色，小火慢炖一个半小时 #家常菜 #美食",
            "Pork and chive, thin skins, 25 yuan for 15. #dumplings #food",
            "第一次做戚风蛋糕就成功了 #烘焙",
            "Garlic, chilli oil, soy, black vinegar. Done. #noodles #food",
        ],
    },
    Topic {
        name: "travel",
        palette: [[129, 212, 250], [77, 182, 172], [255, 245, 157]],
        titles: &[
            "大理三天两夜",
            "Chengdu in 48 hours",
            "云南自驾路线",
            "Hidden beaches",
            "北京胡同漫步",
        ],
        lines: &[
            "洱海骑行真的太美了，建议早上去 #旅行 #大理",
            "Pandas at 7am, hotpot at 7pm. #chengdu #travel",
            "丽江到香格里拉，一路雪山 #自驾 #旅行",
            "Take the early ferry and you'll have it to yourself. #travel",
        ],
    },
    Topic {
        name: "home",
        palette: [[215, 204, 200], [161, 136, 127], [232, 245, 233]],
        titles: &[
            "出租屋改造",
            "Small balcony garden",
            "收纳神器分享",
            "Cosy reading corner",
        ],
        lines: &[
            "花了五百块，房间焕然一新 #家居 #改造",
            "Basil, mint and cherry tomatoes in two square metres. #home #garden",
            "抽屉分隔盒真的好用 #收纳 #家居",
            "A lamp, a blanket and a stack of books. #home",
        ],
    },
    Topic {
        name: "fitness",
        palette: [[200, 230, 201], [102, 187, 106], [179, 229, 252]],
        titles: &[
            "居家燃脂二十分钟",
            "Couch to 5K",
            "普拉提入门",
            "Morning stretch",
        ],
        lines: &[
            "不用器械，每天二十分钟 #健身 #fitness",
            "Week six: ran thirty minutes without stopping! #running #fitness",
            "核心力量真的提升了 #普拉提 #健身",
            "Ten minutes after waking up changes the whole day. #fitness",
        ],
    },
];

const COMMENTS: &[&str] = &[
    "太好看了！",
    "Saved for later 🙌",
    "求链接～",
    "This is so helpful, thank you",
    "同款！",
    "去过，确实不错",
    "Where is this?",
    "已收藏",
];

pub struct DemoAccounts {
    pub handles: Vec<String>,
    /// One password for every demo account, random per installation.
    pub password: String,
}

/// Seeds the demo when no one has signed up yet; returns the featured accounts, or `None` when
/// the database already has members (the demo never touches a community in use). `progress`
/// is told how many of the notes are done.
pub async fn seed(
    state: &AppState,
    size: DemoSize,
    progress: &dyn Fn(usize, usize),
) -> AppResult<Option<DemoAccounts>> {
    if account_store::count_users(&state.db).await? > 0 {
        return Ok(None);
    }
    mark_seed(
        &state.db,
        "INSERT INTO demo_seed (id, started_at) VALUES (1, $1)",
    )
    .await?;
    let mut rng = StdRng::seed_from_u64(0x1234_5678);
    let password = format!("demo-{}", &accounts::random_secret()[..12]);
    let members = make_members(state, &mut rng, size.members, &password).await?;
    let stores = make_brands(state, &mut rng, &members).await?;
    for member in &members {
        let count = rng.gen_range(3..=12).min(members.len() - 1);
        let chosen: Vec<&User> = members
            .choose_multiple(&mut rng, count + 1)
            .filter(|o| o.id != member.id)
            .take(count)
            .collect();
        for other in chosen {
            social::follow(state, member, &other.handle).await?;
        }
    }
    let mut tagged = Vec::new();
    for done in 0..size.notes {
        let author = members.choose(&mut rng).expect("members exist");
        let topic = done % TOPICS.len();
        let on_sale: Vec<&DemoListing> = stores
            .iter()
            .flat_map(|s| &s.products)
            .filter(|listing| listing.topic == topic)
            .collect();
        // About a third of the notes on a topic the brands sell for show one of their products,
        // and are about that product.
        let product = on_sale
            .choose(&mut rng)
            .copied()
            .filter(|_| rng.gen_bool(0.3));
        let title = match product {
            Some(listing) => {
                let before = tagged.iter().filter(|(_, p)| *p == listing.id).count();
                title_about(listing.title, before)
            }
            // Notes of a topic go through its titles in turn: neighbours on Explore differ.
            None => TOPICS[topic].titles[(done / TOPICS.len()) % TOPICS[topic].titles.len()].into(),
        };
        let tag = product.map(|listing| listing.id);
        let note = make_note(state, &mut rng, author, topic, &title, tag).await?;
        if let Some(product) = tag {
            tagged.push((note, product));
        }
        react(state, &mut rng, &members, note).await?;
        progress(done + 1, size.notes);
    }
    make_purchases(state, &mut rng, &members, &stores, &tagged).await?;
    mark_seed(
        &state.db,
        "UPDATE demo_seed SET finished_at = $1 WHERE id = 1",
    )
    .await?;
    Ok(Some(DemoAccounts {
        handles: FEATURED
            .iter()
            .map(|(handle, _, _)| (*handle).to_owned())
            .take(size.members)
            .collect(),
        password,
    }))
}

async fn mark_seed(db: &store::Db, sql: &str) -> AppResult<()> {
    store::query(sql)
        .bind(kernel::Timestamp::now().as_millis())
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Before anything loads from the database: when a demo seed was interrupted there (it began
/// and never finished, so its password was never shown), empties the database and the search
/// index so that seeding can start again. True when it did. A community in use, or a demo
/// that finished, is left alone.
pub async fn clear_interrupted(config: &Config) -> anyhow::Result<bool> {
    // On a new machine nothing exists yet, the SQLite database's folder included.
    std::fs::create_dir_all(&config.storage.data_dir)?;
    let db = store::Db::connect(&config.database_url(), 2).await?;
    db.migrate().await?;
    let unfinished: Option<i64> =
        store::query_scalar("SELECT id FROM demo_seed WHERE finished_at IS NULL")
            .fetch_optional(db.pool())
            .await?;
    if unfinished.is_some() {
        // The index first: if it cannot be removed, the seed is still found unfinished next time.
        let index = config.storage.data_dir.join("search");
        if index.exists() {
            std::fs::remove_dir_all(&index)?;
        }
        db.empty_every_table().await?;
    }
    db.close().await;
    Ok(unfinished.is_some())
}

async fn make_members(
    state: &AppState,
    rng: &mut StdRng,
    count: usize,
    password: &str,
) -> AppResult<Vec<User>> {
    let mut members = Vec::with_capacity(count);
    for i in 0..count {
        let (handle, name, bio) = match FEATURED.get(i) {
            Some((handle, name, bio)) => {
                ((*handle).to_owned(), (*name).to_owned(), (*bio).to_owned())
            }
            None => {
                let name = format!(
                    "{}{}",
                    SURNAME.choose(rng).expect("names"),
                    GIVEN.choose(rng).expect("names")
                );
                let topic = TOPICS.choose(rng).expect("topics").name;
                (format!("member{i:03}"), name, format!("Loves #{topic}"))
            }
        };
        let user = accounts::signup(state, &handle, &name, password).await?;
        let edit = accounts::ProfileEdit {
            bio: Some(&bio),
            ..Default::default()
        };
        members.push(accounts::update_profile(state, &user, &edit).await?);
    }
    Ok(members)
}

/// A product of a demo store: title, category, topic of its pictures, (SKU name, price in fen).
type DemoProduct = (
    &'static str,
    &'static str,
    usize,
    &'static [(&'static str, i64)],
);

const RED_BEAN_PRODUCTS: &[DemoProduct] = &[
    (
        "玫瑰保湿精华 Rose Serum",
        "beauty",
        0,
        &[("30ml", 12_900), ("50ml", 19_900)],
    ),
    (
        "温和洁面乳 Gentle Cleanser",
        "beauty",
        0,
        &[("100g", 6_900)],
    ),
    (
        "清爽防晒 SPF50 Sunscreen",
        "beauty",
        0,
        &[("50ml", 8_900), ("2 × 50ml", 15_900)],
    ),
    (
        "哑光口红 Matte Lipstick",
        "beauty",
        1,
        &[
            ("#01 豆沙", 9_900),
            ("#02 正红", 9_900),
            ("#03 枫叶", 9_900),
        ],
    ),
];

const MOUNTAIN_GEAR_PRODUCTS: &[DemoProduct] = &[
    (
        "轻量登山杖 Trekking Poles",
        "outdoor",
        3,
        &[("一对 Pair", 25_900)],
    ),
    (
        "防水冲锋衣 Rain Shell",
        "outdoor",
        3,
        &[("S", 59_900), ("M", 59_900), ("L", 59_900)],
    ),
    (
        "速干T恤 Quick-dry Tee",
        "outdoor",
        5,
        &[("M", 12_900), ("L", 12_900)],
    ),
];

/// A demo store: who runs it, and its products with the topic of their pictures.
struct DemoStore {
    owner: User,
    products: Vec<DemoListing>,
}

/// A product on sale in a demo store.
struct DemoListing {
    id: Id,
    topic: usize,
    title: &'static str,
}

async fn make_brands(
    state: &AppState,
    rng: &mut StdRng,
    members: &[User],
) -> AppResult<Vec<DemoStore>> {
    let mut stores = Vec::new();
    let brands = [
        (
            "redbean",
            "红豆美妆 Red Bean Beauty",
            0,
            3,
            RED_BEAN_PRODUCTS,
        ),
        (
            "mountaingear",
            "山野装备 Mountain Gear",
            1,
            4,
            MOUNTAIN_GEAR_PRODUCTS,
        ),
    ];
    for (slug, name, owner, staff, products) in brands {
        let (Some(owner), Some(staff)) = (members.get(owner), members.get(staff)) else {
            continue;
        };
        let brand = orgs::create(state, owner, slug, name).await?;
        orgs::put_member(state, owner, &brand, &staff.handle, StaffRole::Staff).await?;
        crate::orgs::store::set_verified(&state.db, brand.id, true).await?;
        let products = make_store(state, rng, owner, slug, name, products).await?;
        stores.push(DemoStore {
            owner: owner.clone(),
            products,
        });
    }
    Ok(stores)
}

/// The brand's store with its products on sale: free shipping from ¥99, more to far regions.
async fn make_store(
    state: &AppState,
    rng: &mut StdRng,
    owner: &User,
    slug: &str,
    name: &str,
    products: &[DemoProduct],
) -> AppResult<Vec<DemoListing>> {
    let shipping = Shipping {
        fee: 800,
        free_over: 9_900,
        region_fees: [("新疆".to_owned(), 2_000), ("西藏".to_owned(), 2_000)].into(),
    };
    let logo_topic = products.first().map_or(0, |p| p.2);
    let logo = picture_of(&TOPICS[logo_topic], rng, 9);
    let logo = crate::media::service::upload(state, owner, logo.into()).await?;
    let draft = StoreDraft {
        name: name.to_owned(),
        description: "官方旗舰店 · Official store".into(),
        shipping,
        logo_media_id: Some(logo.id),
    };
    let store = shop::open_store(state, owner, slug, &draft).await?;
    let mut made = Vec::new();
    for (i, (title, category, topic, variants)) in products.iter().enumerate() {
        let picture = picture_of(&TOPICS[*topic], rng, i);
        let media = crate::media::service::upload(state, owner, picture.into()).await?;
        let draft = ProductDraft {
            title: (*title).to_owned(),
            description: format!("{title} — 品牌直发，七天无理由退货。Ships from the brand."),
            category: (*category).to_owned(),
            state: ProductState::OnSale,
            commission_percent: 10,
            media_ids: vec![media.id],
        };
        let skus: Vec<SkuDraft> = variants
            .iter()
            .enumerate()
            .map(|(v, (name, price))| SkuDraft {
                code: format!("{slug}-{i}-{v}"),
                name: (*name).to_owned(),
                price: *price,
                stock: rng.gen_range(20..200),
                weight_g: 300,
            })
            .collect();
        let product = shop::create_product(state, owner, store.id, &draft, &skus).await?;
        made.push(DemoListing {
            id: product.id,
            topic: *topic,
            title,
        });
    }
    Ok(made)
}

/// The `n`th note's title about a product, from the Chinese part of its name ("玫瑰保湿精华
/// Rose Serum").
fn title_about(product: &str, n: usize) -> String {
    const SAYINGS: [&str; 6] = [
        "{}真实测评",
        "{}用了一个月",
        "回购的{}",
        "{}值得买吗",
        "{}上手体验",
        "关于{}的实话",
    ];
    let name = product.split(' ').next().unwrap_or(product);
    SAYINGS[n % SAYINGS.len()].replace("{}", name)
}

async fn make_note(
    state: &AppState,
    rng: &mut StdRng,
    author: &User,
    topic: usize,
    title: &str,
    product: Option<Id>,
) -> AppResult<Id> {
    let topic = &TOPICS[topic];
    let mut media = Vec::new();
    for picture in 0..rng.gen_range(1..=3) {
        let bytes = picture_of(topic, rng, picture);
        media.push(
            crate::media::service::upload(state, author, bytes.into())
                .await?
                .id,
        );
    }
    let body = topic
        .lines
        .choose_multiple(rng, 2)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let draft = Draft {
        title,
        body: &body,
        place: "",
        media_ids: &media,
        visibility: Visibility::Public,
        draft: false,
        product_ids: product.as_slice(),
    };
    Ok(notes::create(state, author, &draft).await?.id)
}

/// What demo buyers say about what they bought.
const REVIEWS: &[&str] = &[
    "质地很好，回购了！Lovely texture, bought again.",
    "和笔记里说的一样 · Just as the note said.",
    "物流很快，包装完整。Fast delivery, well packed.",
    "Good value for the price.",
    "颜色比图片更好看。Nicer in person.",
];

/// Members buy products they found in notes, through the same steps as real buyers: checkout
/// from the note, a sandbox payment, shipping, receipt, and a review (some with a photo). The
/// notes' authors earn their commission.
async fn make_purchases(
    state: &AppState,
    rng: &mut StdRng,
    members: &[User],
    stores: &[DemoStore],
    tagged: &[(Id, Id)],
) -> AppResult<()> {
    let mut addressed = std::collections::HashMap::new();
    for (n, (note, product_id)) in tagged.iter().take(12).enumerate() {
        let Some((store, topic)) = stores.iter().find_map(|s| {
            let listing = s.products.iter().find(|l| l.id == *product_id)?;
            Some((s, listing.topic))
        }) else {
            continue;
        };
        let author = notes::get(state, None, *note).await?.author.id;
        let Some(buyer) = members
            .choose_multiple(rng, 3)
            .find(|m| m.id != author && m.id != store.owner.id)
        else {
            continue;
        };
        let address = match addressed.get(&buyer.id) {
            Some(address) => *address,
            None => {
                let region = *["上海", "北京", "广东", "四川"]
                    .choose(rng)
                    .expect("regions");
                let draft = AddressDraft {
                    name: buyer.display_name.clone(),
                    phone: "13800138000".into(),
                    region: region.into(),
                    detail: "1 Demo Road".into(),
                };
                let id = orders::add_address(state, buyer, &draft).await?.id;
                *addressed.entry(buyer.id).or_insert(id)
            }
        };
        let product = shop::product(state, None, *product_id).await?;
        let request = CheckoutRequest {
            address_id: address,
            items: vec![LineRequest {
                sku_id: product.skus[0].id,
                quantity: 1,
                note_id: Some(*note),
            }],
        };
        let (_, placed) = orders::checkout(state, buyer, &format!("demo-{n}"), &request).await?;
        for order in placed {
            let payment = payments::start(state, buyer, order.id, "sandbox").await?;
            let paid = Notice {
                provider: crate::payments::types::Provider::Sandbox,
                payment: payment.id,
                succeeded: true,
                amount: payment.amount,
                currency: &payment.currency,
                provider_ref: "demo",
            };
            payments::apply(state, &paid).await?;
            let tracking = format!("SF{}", 1_000_000_000 + n);
            orders::ship(state, &store.owner, order.id, "顺丰 SF Express", &tracking).await?;
            orders::deliver(state, &store.owner, order.id).await?;
            orders::confirm(state, buyer, order.id).await?;
            let media_ids = match rng.gen_bool(0.5) {
                true => {
                    let picture = picture_of(&TOPICS[topic], rng, n);
                    vec![
                        crate::media::service::upload(state, buyer, picture.into())
                            .await?
                            .id,
                    ]
                }
                false => Vec::new(),
            };
            let review = ReviewDraft {
                rating: rng.gen_range(4..=5),
                body: (*REVIEWS.choose(rng).expect("reviews")).to_owned(),
                media_ids,
            };
            orders::review(state, buyer, order.id, 0, &review).await?;
        }
    }
    Ok(())
}

async fn react(state: &AppState, rng: &mut StdRng, members: &[User], note: Id) -> AppResult<()> {
    let likes = rng.gen_range(0..=members.len().min(20));
    for fan in members.choose_multiple(rng, likes) {
        social::set_like(state, fan, note, true).await?;
    }
    for fan in members.choose_multiple(rng, likes / 3) {
        social::collect(state, fan, note, None).await?;
    }
    let count = rng.gen_range(0..=3);
    let commenters: Vec<&User> = members.choose_multiple(rng, count).collect();
    for fan in commenters {
        let text = COMMENTS.choose(rng).expect("comments");
        social::comment(state, fan, note, text, None).await?;
    }
    Ok(())
}

/// A 600 × 800 picture in the topic's colours: a soft gradient with a few shapes.
fn picture_of(topic: &Topic, rng: &mut StdRng, variant: usize) -> Vec<u8> {
    let [a, b, c] = topic.palette;
    let (width, height) = (600u32, 800u32);
    let shapes: Vec<(f32, f32, f32)> = (0..3 + variant)
        .map(|_| {
            (
                rng.gen_range(0.0..600.0),
                rng.gen_range(0.0..800.0),
                rng.gen_range(40.0..180.0),
            )
        })
        .collect();
    let image = RgbImage::from_fn(width, height, |x, y| {
        let t = y as f32 / height as f32;
        let mix = |i: usize| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t) as u8;
        let inside = shapes
            .iter()
            .any(|(cx, cy, r)| (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < r * r);
        if inside {
            Rgb(c)
        } else {
            Rgb([mix(0), mix(1), mix(2)])
        }
    });
    let mut out = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&image)
        .expect("encoding to memory does not fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::types::{MAX_BODY, MAX_TITLE};

    #[test]
    fn every_demo_text_fits_the_limits_of_a_note() {
        for topic in TOPICS {
            for title in topic.titles {
                assert!(title.chars().count() <= MAX_TITLE, "{title}");
            }
            for listing in RED_BEAN_PRODUCTS.iter().chain(MOUNTAIN_GEAR_PRODUCTS) {
                for n in 0..6 {
                    let title = title_about(listing.0, n);
                    assert!(title.chars().count() <= MAX_TITLE, "{title}");
                }
            }
            for line in topic.lines {
                assert!(line.chars().count() * 2 < MAX_BODY, "{line}");
            }
        }
    }
}
