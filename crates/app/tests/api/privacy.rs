//! A member's rights: their archive, and leaving.

use std::io::Read;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{item_strings, problem, spawn_app, PASSWORD};

#[tokio::test]
async fn a_member_downloads_everything_held_about_them_then_leaves_without_a_trace() {
    let app = spawn_app().await;
    let merchant = app.merchant("keeper").await;
    let leaver = app.member("leaver").await;
    let friend = app.member("friend").await;
    let product = app.product(&merchant, "Tea set", &[(9900, 5)]).await;
    let own = app.post_note(&leaver, "Leaving soon", "my last note").await;
    let theirs = app.post_note(&friend, "Friend's note", "hello").await;
    let theirs_id = theirs["id"].as_str().unwrap().to_owned();
    app.send_as(
        Method::PUT,
        &leaver,
        &format!("/api/v1/notes/{theirs_id}/like"),
        None,
    )
    .await;
    let comment = json!({"body": "a comment only I wrote"});
    let commented = app
        .send_as(
            Method::POST,
            &leaver,
            &format!("/api/v1/notes/{theirs_id}/comments"),
            Some(comment),
        )
        .await;
    assert_eq!(commented.status(), StatusCode::CREATED);
    app.send_as(Method::PUT, &leaver, "/api/v1/users/friend/follow", None)
        .await;
    let address = app.address(&leaver, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app
        .checkout(&leaver, "leave", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = orders[0]["id"].as_str().unwrap().to_owned();

    // The archive.
    let archive = app.get_as(&leaver, "/api/v1/me/archive").await;
    assert_eq!(archive.status(), StatusCode::OK);
    assert_eq!(archive.headers()["content-type"], "application/zip");
    let bytes = archive.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut data = String::new();
    zip.by_name("data.json")
        .unwrap()
        .read_to_string(&mut data)
        .unwrap();
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["profile"][0]["handle"], "leaver");
    assert_eq!(data["notes"][0]["title"], "Leaving soon");
    assert_eq!(data["comments"][0]["body"], "a comment only I wrote");
    assert_eq!(data["likes"].as_array().unwrap().len(), 1);
    assert_eq!(data["following"][0]["handle"], "friend");
    assert_eq!(data["addresses"][0]["phone"], "13800138000");
    assert_eq!(data["orders"][0]["status"], "pending_payment");
    assert!(data["interest_tags"].is_array() && data["impressions"].is_array());
    let media: Vec<String> = zip
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .filter(|name| name.starts_with("media/"))
        .collect();
    assert_eq!(media.len(), 1, "the note's picture: {media:?}");
    assert!(zip.by_name(&media[0]).unwrap().size() > 100);

    // The settings page hands out the same archive.
    let (browser, _) = app.signed_in_browser("leaver").await;
    let from_page = browser
        .get(app.url("/settings/archive"))
        .send()
        .await
        .unwrap();
    assert_eq!(from_page.status(), StatusCode::OK);
    assert_eq!(from_page.headers()["content-type"], "application/zip");
    let page_zip = zip::ZipArchive::new(std::io::Cursor::new(
        from_page.bytes().await.unwrap().to_vec(),
    ));
    assert_eq!(page_zip.unwrap().len(), zip.len());

    // Before leaving, search knows the member and their note.
    let mut known = 0;
    for _ in 0..30 {
        let notes = app.get_json("/api/v1/search?q=leaving").await;
        let people = app.get_json("/api/v1/search?q=leaver&type=users").await;
        known =
            notes["items"].as_array().unwrap().len() + people["items"].as_array().unwrap().len();
        if known == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(known, 2, "search found the note and the member");

    // Leaving: a wrong password changes nothing.
    let wrong = app
        .send_as(
            Method::DELETE,
            &leaver,
            "/api/v1/me/account",
            Some(json!({"password": "not mine at all"})),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(wrong).await["errors"][0]["field"], "password");
    let left = app
        .send_as(
            Method::DELETE,
            &leaver,
            "/api/v1/me/account",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.get_as(&leaver, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("leaver", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let profile = app
        .api
        .get(app.url("/api/v1/users/leaver"))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::NOT_FOUND);
    let own_path = format!("/api/v1/notes/{}", own["id"].as_str().unwrap());
    assert_eq!(
        app.get_as(&friend, &own_path).await.status(),
        StatusCode::NOT_FOUND
    );
    let their_note = app
        .get_json_as(&friend, &format!("/api/v1/notes/{theirs_id}"))
        .await;
    assert_eq!(
        (
            their_note["like_count"].as_i64(),
            their_note["comment_count"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let followers = app.get_json("/api/v1/users/friend/followers").await;
    assert!(item_strings(&followers, "handle").is_empty());

    // Gone from search and from Explore within a second.
    let own_id = own["id"].as_str().unwrap();
    let mut found = Vec::new();
    for _ in 0..20 {
        let notes = app.get_json("/api/v1/search?q=leaving").await;
        let people = app.get_json("/api/v1/search?q=leaver&type=users").await;
        found = [&notes["items"], &people["items"]]
            .iter()
            .flat_map(|items| items.as_array().unwrap().clone())
            .collect();
        if found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found.is_empty(), "still found: {found:?}");
    let explore = app.get_json("/api/v1/feed/explore").await;
    assert!(!explore.to_string().contains(own_id), "{explore}");

    // The order stays for the store, without the person.
    let kept = app
        .get_json_as(&merchant.token, &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(kept["status"], "pending_payment");
    assert_eq!(kept["ship_to"]["phone"], "");
    assert_eq!(kept["ship_to"]["name"], "");
}
