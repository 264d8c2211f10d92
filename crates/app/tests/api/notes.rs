use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{item_strings, problem, spawn_app, TestApp};
use crate::media::{mp4, png};

impl TestApp {
    /// Uploads a generated image and returns its media id.
    pub async fn image_id(&self, token: &str) -> String {
        let response = self.upload(token, "photo.png", png(320, 400)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let media: Value = response.json().await.unwrap();
        media["id"].as_str().unwrap().to_owned()
    }

    /// Posts a public note with one fresh image; returns the note.
    pub async fn post_note(&self, token: &str, title: &str, body: &str) -> Value {
        let media = self.image_id(token).await;
        let note = json!({"title": title, "body": body, "media_ids": [media]});
        let response = self
            .send_as(Method::POST, token, "/api/v1/notes", Some(note))
            .await;
        let status = response.status();
        let note: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{note}");
        note
    }
}

#[tokio::test]
async fn a_note_keeps_its_images_in_order_and_its_topics() {
    let app = spawn_app().await;
    let token = app.member("writer").await;
    let first = app.image_id(&token).await;
    let second = app.image_id(&token).await;
    let body = json!({"title": "夏日防晒 Summer", "body": "真的好用 #防晒 #Sunscreen and more", "place": "上海",
                      "media_ids": [second, first]});
    let response = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let note: Value = response.json().await.unwrap();
    assert_eq!(note["kind"], "image");
    assert_eq!(note["topics"], json!(["防晒", "sunscreen"]));
    let order: Vec<&str> = note["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [second.as_str(), first.as_str()]);
    assert!(note["edited_at"].is_null());

    let id = note["id"].as_str().unwrap();
    let fetched = app.get_json(&format!("/api/v1/notes/{id}")).await;
    assert_eq!(fetched["title"], "夏日防晒 Summer");
    let edit = json!({"title": "Edited", "body": "now #travel", "media_ids": [first]});
    let edited: Value = app
        .send_as(
            Method::PATCH,
            &token,
            &format!("/api/v1/notes/{id}"),
            Some(edit),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(edited["edited_at"].is_string());
    assert_eq!(edited["topics"], json!(["travel"]));
    let topic = app.get_json("/api/v1/topics/TRAVEL/notes").await;
    assert_eq!(item_strings(&topic, "id"), [id]);
}

#[tokio::test]
async fn bad_notes_are_refused_field_by_field() {
    let app = spawn_app().await;
    let token = app.member("careless").await;
    let other = app.member("bystander").await;
    let images: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..19 {
            ids.push(app.image_id(&token).await);
        }
        ids
    };
    let too_many = json!({"title": "t", "media_ids": images});
    let response = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(too_many))
        .await;
    assert_eq!(problem(response).await["errors"][0]["field"], "media_ids");
    let long_title = json!({"title": "x".repeat(21), "media_ids": [images[0]]});
    let response = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(long_title))
        .await;
    let body = problem(response).await;
    assert_eq!(
        (body["status"].as_i64(), body["errors"][0]["field"].as_str()),
        (Some(422), Some("title"))
    );
    let none = json!({"title": "t", "media_ids": []});
    let response = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(none))
        .await;
    assert_eq!(problem(response).await["errors"][0]["field"], "media_ids");
    let borrowed = json!({"title": "t", "media_ids": [images[0]]});
    let response = app
        .send_as(Method::POST, &other, "/api/v1/notes", Some(borrowed))
        .await;
    assert_eq!(
        problem(response).await["errors"][0]["detail"],
        "must be media you uploaded"
    );
}

#[tokio::test]
async fn only_the_author_edits_or_deletes_and_private_notes_stay_private() {
    let app = spawn_app().await;
    let author = app.member("owner_of_note").await;
    let stranger = app.member("stranger").await;
    let note = app.post_note(&author, "Mine", "hello").await;
    let id = note["id"].as_str().unwrap();
    let path = format!("/api/v1/notes/{id}");
    let media = note["media"][0]["id"].as_str().unwrap();
    let change = json!({"title": "Hijacked", "media_ids": [media]});
    assert_eq!(
        app.send_as(Method::PATCH, &stranger, &path, Some(change))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send_as(Method::DELETE, &stranger, &path, None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let private = json!({"title": "Secret", "media_ids": [media], "visibility": "private"});
    app.send_as(Method::PATCH, &author, &path, Some(private))
        .await;
    assert_eq!(
        app.get_as(&stranger, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_as(&author, &path).await.status(), StatusCode::OK);
    let listed = app.get_json("/api/v1/users/owner_of_note/notes").await;
    assert!(
        listed["items"].as_array().unwrap().is_empty(),
        "others do not see private notes in lists"
    );
    let own = app
        .get_json_as(&author, "/api/v1/users/owner_of_note/notes")
        .await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);

    let draft =
        json!({"title": "Draft", "media_ids": [app.image_id(&author).await], "draft": true});
    let draft: Value = app
        .send_as(Method::POST, &author, "/api/v1/notes", Some(draft))
        .await
        .json()
        .await
        .unwrap();
    let draft_path = format!("/api/v1/notes/{}", draft["id"].as_str().unwrap());
    assert_eq!(
        app.get_as(&stranger, &draft_path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send_as(Method::DELETE, &author, &path, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_as(&author, &path).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_video_note_has_its_video_and_a_cover() {
    let app = spawn_app().await;
    let token = app.member("vlogger").await;
    let video: Value = app
        .upload(&token, "v.mp4", mp4(&[7u8; 2_000]))
        .await
        .json()
        .await
        .unwrap();
    let cover = app.image_id(&token).await;
    let video_id = video["id"].as_str().unwrap();
    let body = json!({"title": "Vlog", "media_ids": [video_id, cover]});
    let note: Value = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(body))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["kind"], "video");
    let wrong = json!({"title": "Vlog", "media_ids": [cover, video_id]});
    let response = app
        .send_as(Method::POST, &token, "/api/v1/notes", Some(wrong))
        .await;
    assert_eq!(problem(response).await["errors"][0]["field"], "media_ids");
}

#[tokio::test]
async fn a_members_notes_come_newest_first_in_pages() {
    let app = spawn_app().await;
    let token = app.member("prolific").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.post_note(&token, &format!("Note {i}"), "text").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = app.get_json("/api/v1/users/prolific/notes?limit=3").await;
    assert_eq!(item_strings(&first, "id"), [&ids[4], &ids[3], &ids[2]]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!(
            "/api/v1/users/prolific/notes?limit=3&cursor={cursor}"
        ))
        .await;
    assert_eq!(item_strings(&second, "id"), [&ids[1], &ids[0]]);
}

#[tokio::test]
async fn an_edit_changes_only_the_fields_it_names() {
    let app = spawn_app().await;
    let author = app.member("tidy").await;
    let first = app.image_id(&author).await;
    let second = app.image_id(&author).await;
    let note = json!({"title": "Morning", "body": "coffee #food", "place": "上海",
        "media_ids": [first, second]});
    let made: Value = app
        .send_as(Method::POST, &author, "/api/v1/notes", Some(note))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/notes/{}", made["id"].as_str().unwrap());
    let retitled = app
        .send_as(
            Method::PATCH,
            &author,
            &path,
            Some(json!({"title": "Evening"})),
        )
        .await;
    assert_eq!(retitled.status(), StatusCode::OK);
    let note: Value = retitled.json().await.unwrap();
    assert_eq!(note["title"], "Evening");
    assert_eq!(note["body"], "coffee #food", "the body stays");
    assert_eq!(note["place"], "上海");
    assert_eq!(note["topics"], json!(["food"]));
    let media: Vec<&str> = note["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        media,
        [first.as_str(), second.as_str()],
        "the pictures stay, in order"
    );
    let hidden = app
        .send_as(
            Method::PATCH,
            &author,
            &path,
            Some(json!({"visibility": "private"})),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(hidden["visibility"], "private");
    assert_eq!(hidden["title"], "Evening");
    let emptied = app
        .send_as(
            Method::PATCH,
            &author,
            &path,
            Some(json!({"media_ids": []})),
        )
        .await;
    assert_eq!(
        problem(emptied).await["errors"][0]["field"],
        "media_ids",
        "a field given is checked as on creation"
    );
}
