use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_fills_an_empty_site_once_and_never_a_site_in_use() {
    let app = spawn_app().await;
    let small = app::demo::DemoSize {
        members: 8,
        notes: 12,
    };
    let demo = app::demo::seed(&app.state, small, &|_, _| {})
        .await
        .unwrap()
        .expect("an empty site gets the demo");
    let signed_in = app.login(&demo.handles[0], &demo.password).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let brand = app.get_json("/api/v1/orgs/redbean").await;
    assert_eq!(brand["verified"], true);
    let profile = app
        .api
        .get(app.url("/@lin_xiaohong"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        profile.contains("class=\"badge\""),
        "staff of a verified brand show the badge"
    );
    let notes = app.get_json("/api/v1/topics/beauty/notes").await;
    let first = &notes["items"][0];
    assert!(
        first["media"][0]["card_url"].is_string(),
        "demo notes have pictures"
    );
    // Members bought products they found in notes: paid, delivered and reviewed, the notes'
    // authors paid their commission, and the ledger balanced.
    let products = app.get_json("/api/v1/products").await;
    let mut reviewed = 0;
    for product in products["items"].as_array().unwrap() {
        let path = format!(
            "/api/v1/products/{}/reviews",
            product["id"].as_str().unwrap()
        );
        reviewed += app.get_json(&path).await["items"].as_array().unwrap().len();
    }
    assert!(reviewed > 0, "demo products have reviews");
    let accounts = app.state.ledger.all_accounts().await.unwrap();
    let earned: i64 = accounts
        .iter()
        .filter(|a| a.code == 210)
        .map(|a| a.balance.credits_posted)
        .sum();
    assert!(earned > 0, "creators earned commissions");
    let violations = ledger::audit::violations(&app.state.db).await.unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    assert!(app::demo::seed(&app.state, small, &|_, _| {})
        .await
        .unwrap()
        .is_none());

    let in_use = spawn_app().await;
    in_use.signup("first_member").await;
    assert!(app::demo::seed(&in_use.state, small, &|_, _| {})
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_interrupted_demo_seed_is_started_again_by_the_next_run() {
    let mut app = spawn_app().await;
    let small = app::demo::DemoSize {
        members: 8,
        notes: 12,
    };
    let users = || async {
        store::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap()
    };
    // The seed is stopped half-way, as a power cut would stop it.
    let half_way = async {
        while users().await < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        _ = app::demo::seed(&app.state, small, &|_, _| {}) => panic!("the seed was to be interrupted"),
        _ = half_way => {}
    }
    assert!(users().await >= 3);
    let config = app.state.config.clone();
    app.shut_down().await;
    assert!(clear_when_the_index_is_let_go(&config).await);
    let again = app::open(config.clone()).await.unwrap();
    let demo = app::demo::seed(&again, small, &|_, _| {})
        .await
        .unwrap()
        .expect("the rerun seeds the demo");
    let members = store::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
        .fetch_one(again.db.pool())
        .await
        .unwrap();
    assert_eq!(members, 8, "one whole demo, nothing of the first run left");
    assert!(!demo.password.is_empty());
    assert!(
        !app::demo::clear_interrupted(&config).await.unwrap(),
        "a finished demo stays"
    );
    let violations = ledger::audit::violations(&again.db).await.unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    again.close().await;
}

#[tokio::test]
async fn on_a_new_machine_there_is_no_interrupted_demo_to_clear() {
    let folder = tempfile::tempdir().unwrap();
    let mut config = app::config::Config::default();
    config.storage.data_dir = folder.path().join("data");
    if std::env::var("HONGSHU_TEST_DATABASE_URL").is_ok() {
        config.storage.database_url = store::testing::fresh_database_url(folder.path()).await;
    }
    assert!(!app::demo::clear_interrupted(&config).await.unwrap());
    assert!(config.storage.data_dir.is_dir());
}

/// Clears the interrupted seed. The stopped server's search index may still be finishing a
/// merge on a thread of its own for a moment, writing into the folder being removed; the
/// clearing is tried again until that is over.
async fn clear_when_the_index_is_let_go(config: &app::config::Config) -> bool {
    for _ in 0..50 {
        match app::demo::clear_interrupted(config).await {
            Ok(cleared) => return cleared,
            Err(e) => eprintln!("clearing again: {e:#}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the interrupted seed could not be cleared in five seconds")
}
