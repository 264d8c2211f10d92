use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_fills_an_empty_site_once_and_never_a_site_in_use() {
    let app = spawn_app().await;
    let demo = app::demo::seed(&app.state)
        .await
        .unwrap()
        .expect("an empty site gets the demo");
    let signed_in = app.login(demo.handles[0], &demo.password).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let brand: Value = app.get_json("/api/v1/orgs/redbean").await;
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
    assert!(app::demo::seed(&app.state).await.unwrap().is_none());

    let in_use = spawn_app().await;
    in_use.signup("first_member").await;
    assert!(app::demo::seed(&in_use.state).await.unwrap().is_none());
}
