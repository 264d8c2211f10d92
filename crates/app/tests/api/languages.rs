//! Every word a reader reads comes from their language: pages rendered in Chinese show no
//! English outside what members wrote, and pages in English show no Chinese.

use reqwest::header::ACCEPT_LANGUAGE;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// What members of this test wrote themselves (names, titles, addresses) in either language,
/// and the few words that are the same in both (units, formats, the language switch).
const MEMBERS_WROTE: &[&str] = &[
    "shopper",
    "maker",
    "maker Co",
    "maker store",
    "Good things",
    "Variant 0",
    "SKU-0",
    "Li Na",
    "1 Nanjing Road, Shanghai",
    "13800138000",
    "SF Express",
    "My routine",
    "#skincare",
    "skincare",
    "护肤",
    "面霜",
    "味道很好",
    "颜色不对",
    "Wrong colour",
    "上海",
    "SF",
    "My",
    "routine",
];
const SAME_IN_BOTH: &[&str] = &[
    "English",
    "简体中文",
    "RSS",
    "SKU",
    "IANA",
    "UTC",
    "MiB",
    "JPEG",
    "PNG",
    "WebP",
    "MP4",
    "WebM",
    "ZIP",
    "JavaScript",
    "Asia/Shanghai",
];

/// The text a reader meets: between tags, and in the attributes that are shown or read aloud.
fn readable(html: &str) -> String {
    let mut html = html.to_owned();
    for (open, close) in [
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<!--", "-->"),
    ] {
        while let Some(start) = html.find(open) {
            let end = html[start..]
                .find(close)
                .map_or(html.len(), |e| start + e + close.len());
            html.replace_range(start..end, " ");
        }
    }
    let mut text = String::new();
    let mut rest = html.as_str();
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        text.push(' ');
        let gt = rest[lt..].find('>').map_or(rest.len(), |g| lt + g + 1);
        let tag = &rest[lt..gt];
        // Zone names are identifiers, marked as not to be translated.
        if !tag.contains("translate=\"no\"") {
            for attr in ["alt=\"", "placeholder=\"", "aria-label=\"", "title=\""] {
                if let Some(at) = tag.find(attr) {
                    let value = &tag[at + attr.len()..];
                    text.push_str(&value[..value.find('"').unwrap_or(value.len())]);
                    text.push(' ');
                }
            }
        } else if tag.starts_with("<option") {
            // The option's text follows the tag: skip it up to the next tag.
            rest = &rest[gt..];
            let next = rest.find('<').unwrap_or(rest.len());
            rest = &rest[next..];
            continue;
        }
        rest = &rest[gt..];
    }
    text.push_str(rest);
    let mut text = text
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let mut known: Vec<&str> = MEMBERS_WROTE.iter().chain(SAME_IN_BOTH).copied().collect();
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for word in known {
        text = text.replace(word, " ");
    }
    text
}

/// Words in Latin letters (two or more), outside handles and numbers such as order ids.
fn english_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphabetic() || c == '@' || c == '_'))
        .filter(|w| w.len() >= 2 && !w.starts_with('@'))
        .map(str::to_owned)
        .collect();
    words.dedup();
    words
}

fn chinese(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c) || ('\u{3000}'..='\u{303f}').contains(c))
        .collect()
}

async fn page_in(app: &TestApp, browser: &Client, path: &str, lang: &str) -> (StatusCode, String) {
    app.caught_up().await;
    let response = browser
        .get(app.url(path))
        .header(ACCEPT_LANGUAGE, lang)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A store, a product tagged in a note, an order paid, shipped, with an after-sales request
/// and a comment, a collect and notifications: the pages a member meets, each filled.
async fn a_world(app: &TestApp) -> Vec<(String, &'static str)> {
    let merchant = app.merchant("maker").await;
    let product = app.product(&merchant, "面霜", &[(12_900, 9)]).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    let buyer = app.member("shopper").await;
    let note = app.tagged_note(&merchant, &buyer, &product, 10).await;
    let note_id = note["id"].as_str().unwrap().to_owned();
    let comment = json!({"body": "味道很好"});
    let path = format!("/api/v1/notes/{note_id}/comments");
    let commented = app
        .send_as(Method::POST, &merchant.token, &path, Some(comment))
        .await;
    assert_eq!(commented.status(), StatusCode::CREATED);
    let path = format!("/api/v1/notes/{note_id}/collect");
    let collected = app.send_as(Method::PUT, &merchant.token, &path, None).await;
    assert!(collected.status().is_success());
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 1}]});
    let orders: Value = app
        .checkout(&buyer, "words", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = orders[0]["id"].as_str().unwrap().to_owned();
    app.pay(&buyer, &order).await;
    let ship = json!({"carrier": "SF Express", "tracking_number": "SF1"});
    let path = format!("/api/v1/orders/{order}/ship");
    let shipped = app
        .send_as(Method::POST, &merchant.token, &path, Some(ship))
        .await;
    assert_eq!(shipped.status(), StatusCode::OK);
    let ask = json!({"kind": "return_and_refund", "reason": "颜色不对"});
    let path = format!("/api/v1/orders/{order}/after-sales");
    let asked = app.send_as(Method::POST, &buyer, &path, Some(ask)).await;
    assert_eq!(asked.status(), StatusCode::CREATED);
    let boards: Value = app
        .get_json_as(&merchant.token, "/api/v1/users/maker/boards")
        .await;
    let board = boards[0]["id"].as_str().unwrap().to_owned();
    let store = &merchant.store;
    vec![
        ("/".into(), "shopper"),
        ("/shop".into(), "shopper"),
        ("/shop?category=beauty".into(), "shopper"),
        (format!("/products/{product_id}"), "shopper"),
        (format!("/notes/{note_id}"), "shopper"),
        (format!("/orders/{order}"), "shopper"),
        ("/orders".into(), "shopper"),
        ("/cart".into(), "shopper"),
        ("/@shopper".into(), "shopper"),
        ("/notifications".into(), "shopper"),
        ("/settings/profile".into(), "shopper"),
        ("/earnings".into(), "shopper"),
        ("/notes/new".into(), "shopper"),
        ("/search?q=routine".into(), "shopper"),
        (format!("/boards/{board}"), "maker"),
        ("/@maker?tab=boards".into(), "maker"),
        (format!("/stores/{store}/manage"), "maker"),
        (format!("/stores/{store}/orders"), "maker"),
        (format!("/orders/{order}"), "maker"),
        ("/notes/1".into(), "shopper"),
    ]
}

#[tokio::test]
async fn pages_in_chinese_show_no_english_and_pages_in_english_no_chinese() {
    let app = crate::helpers::spawn_app().await;
    let pages = a_world(&app).await;
    let (shopper, _) = app.signed_in_browser("shopper").await;
    let (maker, _) = app.signed_in_browser("maker").await;
    let mut found = Vec::new();
    for (path, who) in &pages {
        let browser = if *who == "maker" { &maker } else { &shopper };
        let (status, zh) = page_in(&app, browser, path, "zh-CN").await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        let english = english_words(&readable(&zh));
        if !english.is_empty() {
            found.push(format!("{path} in Chinese: {english:?}"));
        }
        let (_, en) = page_in(&app, browser, path, "en").await;
        let han = chinese(&readable(&en));
        if !han.is_empty() {
            found.push(format!(
                "{path} in English: {}",
                han.iter().collect::<String>()
            ));
        }
    }
    for (path, lang) in [("/login", "zh-CN"), ("/signup", "zh-CN"), ("/login", "en")] {
        let (_, html) = page_in(&app, &app.browser(), path, lang).await;
        let text = readable(&html);
        let wrong = if lang == "en" {
            chinese(&text).iter().collect::<String>()
        } else {
            english_words(&text).join(" ")
        };
        if !wrong.is_empty() {
            found.push(format!("{path} in {lang}: {wrong}"));
        }
    }
    assert!(
        found.is_empty(),
        "words from the other language:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_sees_text_and_shown_attributes_not_markup() {
    let html = r#"<p class="x" title="标题">你好 <b>世界</b></p><script>var english = 1;</script>
        <img alt="Photo" src="/a.png"><option value="Asia/Tokyo" translate="no">Asia/Tokyo</option>"#;
    let text = readable(html);
    assert_eq!(english_words(&text), vec!["Photo"]);
    assert_eq!(chinese(&text).iter().collect::<String>(), "标题你好世界");
}
