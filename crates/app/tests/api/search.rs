use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, TestApp};

impl TestApp {
    /// Searches until the results satisfy `done`, for at most five seconds (the index commits
    /// changes about a tenth of a second after they happen); returns the last answer.
    pub async fn search_until(
        &self,
        token: Option<&str>,
        query: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut answer = Value::Null;
        for _ in 0..50 {
            let url = self.url(&format!("/api/v1/search?{query}"));
            let request = self.api.get(url);
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            answer = request.send().await.unwrap().json().await.unwrap();
            if done(&answer) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        answer
    }
}

fn titles(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["note"]["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn new_edited_and_deleted_notes_show_in_search_within_moments() {
    let app = spawn_app().await;
    let token = app.member("searcher").await;
    let note = app
        .post_note(&token, "防晒霜测评", "这款防晒霜真的很好用 #防晒")
        .await;
    app.post_note(&token, "Best Sunscreens", "Light and not greasy #sunscreen")
        .await;
    app.post_note(&token, "Hiking", "Trails around the lake")
        .await;

    let found = app
        .search_until(None, "q=%E9%98%B2%E6%99%92%E9%9C%9C", |a| {
            !titles(a).is_empty()
        })
        .await;
    assert_eq!(titles(&found), ["防晒霜测评"]);
    assert!(found["items"][0]["snippet"]
        .as_str()
        .unwrap()
        .contains("<b>"));
    let english = app
        .search_until(None, "q=SUNSCREEN", |a| !titles(a).is_empty())
        .await;
    assert_eq!(titles(&english), ["Best Sunscreens"]);

    let id = note["id"].as_str().unwrap();
    let media = note["media"][0]["id"].as_str().unwrap();
    let edit = json!({"title": "午餐", "body": "今天吃了面条", "media_ids": [media]});
    app.send_as(
        Method::PATCH,
        &token,
        &format!("/api/v1/notes/{id}"),
        Some(edit),
    )
    .await;
    let edited = app
        .search_until(None, "q=%E9%9D%A2%E6%9D%A1", |a| !titles(a).is_empty())
        .await;
    assert_eq!(titles(&edited), ["午餐"]);
    app.send_as(Method::DELETE, &token, &format!("/api/v1/notes/{id}"), None)
        .await;
    let gone = app
        .search_until(None, "q=%E9%9D%A2%E6%9D%A1", |a| titles(a).is_empty())
        .await;
    assert!(titles(&gone).is_empty(), "a deleted note leaves search");
}

#[tokio::test]
async fn private_notes_and_blocked_people_stay_out_of_results() {
    let app = spawn_app().await;
    let author = app.member("hidden_author").await;
    let other = app.member("blocked_reader").await;
    let media = app.image_id(&author).await;
    let private = json!({"title": "Secret garden", "body": "roses", "media_ids": [media], "visibility": "private"});
    app.send_as(Method::POST, &author, "/api/v1/notes", Some(private))
        .await;
    app.post_note(&author, "Public garden", "tulips").await;
    let public = app
        .search_until(None, "q=garden", |a| !titles(a).is_empty())
        .await;
    assert_eq!(titles(&public), ["Public garden"]);
    app.send_as(
        Method::PUT,
        &author,
        "/api/v1/users/blocked_reader/block",
        None,
    )
    .await;
    let blocked = app
        .search_until(Some(&other), "q=garden", |a| titles(a).is_empty())
        .await;
    assert!(titles(&blocked).is_empty());
}

#[tokio::test]
async fn members_and_topics_are_searchable_and_suggested() {
    let app = spawn_app().await;
    let token = app.member("lin_beauty").await;
    app.send_as(
        Method::PATCH,
        &token,
        "/api/v1/me",
        Some(json!({"display_name": "林小美", "bio": "护肤 skincare"})),
    )
    .await;
    app.post_note(&token, "Tips", "#skincare routine").await;
    let people = app
        .search_until(None, "q=skincare&type=users", |a| {
            !a["items"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(people["items"][0]["user"]["handle"], "lin_beauty");
    // Gaining and losing followers reaches the index: members by popularity follow them.
    let rival = app.member("zhou_skin").await;
    app.send_as(
        Method::PATCH,
        &rival,
        "/api/v1/me",
        Some(json!({"display_name": "周周", "bio": "护肤 skincare"})),
    )
    .await;
    let mut fans = Vec::new();
    for fan in ["fan_one", "fan_two", "fan_three"] {
        fans.push(app.member(fan).await);
    }
    let popular = "q=skincare&type=users&sort=popular";
    for (from, to) in [(None, "lin_beauty"), (Some("lin_beauty"), "zhou_skin")] {
        for fan in &fans {
            if let Some(from) = from {
                let path = format!("/api/v1/users/{from}/follow");
                let left = app.send_as(Method::DELETE, fan, &path, None).await;
                assert!(left.status().is_success());
            }
            let path = format!("/api/v1/users/{to}/follow");
            let followed = app.send_as(Method::PUT, fan, &path, None).await;
            assert!(followed.status().is_success());
        }
        let people = app
            .search_until(None, popular, |a| {
                a["items"].as_array().unwrap().len() == 2 && a["items"][0]["user"]["handle"] == to
            })
            .await;
        assert_eq!(people["items"][0]["user"]["handle"], to, "{people}");
    }
    let topics = app
        .search_until(None, "q=skincare&type=topics", |a| {
            !a["items"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(topics["items"][0]["topic"]["name"], "skincare");
    let suggestions: Value = app.get_json("/api/v1/search/suggest?q=skin").await;
    assert!(
        suggestions
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "#skincare"),
        "{suggestions}"
    );
}

#[tokio::test]
async fn bad_queries_get_a_400_and_query_syntax_is_plain_text() {
    let app = spawn_app().await;
    for (query, status) in [
        ("q=", 400),
        ("q=%20%20", 400),
        (&*format!("q={}", "x".repeat(10_240)), 400),
    ] {
        let response = app
            .api
            .get(app.url(&format!("/api/v1/search?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{}",
            &query[..query.len().min(20)]
        );
        assert!(problem(response).await["detail"]
            .as_str()
            .unwrap()
            .starts_with("q:"));
    }
    for hostile in ["title%3A(", "%22abc", "AND%20OR", "*", "%3Cscript%3E"] {
        let response = app
            .api
            .get(app.url(&format!("/api/v1/search?q={hostile}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{hostile}");
    }
    let wrong_type = app
        .api
        .get(app.url("/api/v1/search?q=a&type=songs"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    let page = app
        .api
        .get(app.url("/search?q=%E9%98%B2%E6%99%92"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let empty = app
        .api
        .get(app.url(&format!("/search?q={}", "y".repeat(300))))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(empty.text().await.unwrap().contains("id=\"search-error\""));
}

#[tokio::test]
async fn changes_made_by_a_command_reach_the_running_server() {
    let app = spawn_app().await;
    // `hongshu admin create` opens the same database from another process.
    let command = app::open_command(app.state.config.clone()).await.unwrap();
    app::accounts::service::create_admin(&command, "night_owl", "夜猫子", "long enough secret")
        .await
        .unwrap();
    command.close().await;
    let found = app
        .search_until(None, "q=%E5%A4%9C%E7%8C%AB%E5%AD%90&type=users", |a| {
            !a["items"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(found["items"][0]["user"]["handle"], "night_owl");
}

#[tokio::test]
async fn a_rebuilt_index_replaces_the_live_one_while_search_answers() {
    let app = spawn_app().await;
    let token = app.member("rebuilder").await;
    app.post_note(&token, "Lantern festival", "paper lanterns by the river")
        .await;
    app.search_until(None, "q=lantern", |a| !titles(a).is_empty())
        .await;
    let folder = app.state.config.storage.data_dir.join("search");
    let generations = || {
        std::fs::read_dir(&folder)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().into_string().unwrap())
            .collect::<Vec<_>>()
    };
    let before = generations();
    assert_eq!(before.len(), 1, "{before:?}");

    // Someone keeps searching throughout; every answer must have the note.
    let watcher = {
        let url = app.url("/api/v1/search?q=lantern");
        let client = app.api.clone();
        tokio::spawn(async move {
            let mut answers = 0;
            loop {
                let answer: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
                let titles = titles(&answer);
                assert!(
                    titles.contains(&"Lantern festival".to_owned()),
                    "answer {answers}: {titles:?}"
                );
                answers += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let progress = std::sync::Mutex::new(Vec::new());
    let rebuilt = app::search::indexer::rebuild(&app.state, &|done, total| {
        progress.lock().unwrap().push((done, total))
    })
    .await
    .unwrap();
    assert_eq!(
        progress.lock().unwrap().last(),
        Some(&(2, 2)),
        "a note and a member"
    );
    app.post_note(&token, "Moon cakes", "lanterns and moon cakes")
        .await;
    let both = app
        .search_until(None, "q=lantern", |a| titles(a).len() == 2)
        .await;
    assert_eq!(titles(&both).len(), 2, "{both}");
    for _ in 0..50 {
        if generations() == [rebuilt.generation.as_str()] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        generations(),
        [rebuilt.generation.as_str()],
        "the old index is removed"
    );
    assert!(!watcher.is_finished(), "search answered throughout");
    watcher.abort();
}

#[tokio::test]
async fn best_match_ranks_title_matches_first_and_words_are_not_substrings() {
    let app = spawn_app().await;
    let token = app.member("ranker").await;
    app.post_note(&token, "周末", "去商场逛街，顺便试了和服")
        .await;
    app.post_note(&token, "和服体验", "第一次穿和服拍照，和服很好看")
        .await;
    app.post_note(&token, "餐厅", "和服务员聊了很久").await;
    let ranked = app
        .search_until(None, "q=%E5%92%8C%E6%9C%8D", |a| titles(a).len() >= 2)
        .await;
    assert_eq!(
        titles(&ranked),
        ["和服体验", "周末"],
        "the note about kimonos first; 和服务员 (and the waiter) is not 和服"
    );
}

fn product_titles(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    i["product"]["title"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn products_on_sale_are_found_by_title_description_and_store_and_follow_their_edits() {
    let app = spawn_app().await;
    let merchant = app.merchant("hillshop").await;
    let sunscreen = app
        .product(&merchant, "清透防晒霜 SPF50", &[(8900, 10)])
        .await;
    let shoes = app.product(&merchant, "Trail shoes", &[(39900, 10)]).await;
    let found = app
        .search_until(None, "type=products&q=%E9%98%B2%E6%99%92%E9%9C%9C", |a| {
            !product_titles(a).is_empty()
        })
        .await;
    assert_eq!(product_titles(&found), ["清透防晒霜 SPF50"]);
    assert_eq!(found["items"][0]["product"]["skus"][0]["price"], 8900);
    assert_eq!(found["items"][0]["product"]["store_name"], "hillshop store");
    let notes = app
        .get_json("/api/v1/search?q=%E9%98%B2%E6%99%92%E9%9C%9C")
        .await;
    assert_eq!(
        titles(&notes),
        Vec::<String>::new(),
        "products are not notes"
    );

    // A sale moves the popular order; a renamed store finds its products by the new name.
    let buyer = app.member("hiker").await;
    let address = app.address(&buyer, "上海").await;
    let sku = shoes["skus"][0]["id"].clone();
    let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 2}]});
    let placed: Value = app
        .checkout(&buyer, "shoes", &body)
        .await
        .json()
        .await
        .unwrap();
    app.pay(&buyer, placed[0]["id"].as_str().unwrap()).await;
    let rename = json!({"name": "Summit Outfitters", "description": "Gear",
        "shipping": {"fee": 1000, "free_over": 9900, "region_fees": {}}});
    let renamed = app
        .send_as(
            Method::PATCH,
            &merchant.token,
            &format!("/api/v1/stores/{}", merchant.store),
            Some(rename),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let by_store = app
        .search_until(None, "type=products&sort=popular&q=summit", |a| {
            product_titles(a).len() == 2
        })
        .await;
    assert_eq!(
        product_titles(&by_store),
        ["Trail shoes", "清透防晒霜 SPF50"],
        "most sold first"
    );

    // Edited text is found by its new words; a product off sale is found no more.
    let path = format!("/api/v1/products/{}", sunscreen["id"].as_str().unwrap());
    let edit = json!({"title": "Daily sun fluid", "category": "beauty", "state": "off_sale",
        "media_ids": [sunscreen["media"][0]["id"]]});
    let edited = app
        .send_as(Method::PATCH, &merchant.token, &path, Some(edit))
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let gone = app
        .search_until(None, "type=products&q=summit", |a| {
            product_titles(a).len() == 1
        })
        .await;
    assert_eq!(product_titles(&gone), ["Trail shoes"]);
    let page = app
        .page(&app.browser(), "/search?type=products&q=trail")
        .await;
    assert!(page.contains("class=\"note-card product-card\""), "{page}");
    assert!(page.contains("¥399.00"), "the price on the card");
}
