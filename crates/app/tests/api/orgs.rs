use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn an_owner_builds_a_staff_and_an_admin_verifies_the_brand() {
    let app = spawn_app().await;
    let owner = app.member("brand_owner").await;
    let staff = app.member("brand_staff").await;
    let outsider = app.member("outsider").await;
    let admin = app.admin("site_admin").await;

    let created = app
        .send_as(
            Method::POST,
            &owner,
            "/api/v1/orgs",
            Some(json!({"slug": "RedBean", "name": "Red Bean Cosmetics"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let org: Value = created.json().await.unwrap();
    assert_eq!(
        (org["slug"].as_str(), org["verified"].as_bool()),
        (Some("redbean"), Some(false))
    );

    let duplicate = app
        .send_as(
            Method::POST,
            &outsider,
            "/api/v1/orgs",
            Some(json!({"slug": "redbean", "name": "Copycat"})),
        )
        .await;
    assert_eq!(problem(duplicate).await["errors"][0]["field"], "slug");

    let add = |token: String, handle: &'static str, role: &'static str| {
        let path = format!("/api/v1/orgs/redbean/members/{handle}");
        let app = &app;
        async move {
            app.send_as(Method::PUT, &token, &path, Some(json!({"role": role})))
                .await
                .status()
        }
    };
    assert_eq!(
        add(owner.clone(), "brand_staff", "staff").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        add(staff.clone(), "outsider", "staff").await,
        StatusCode::FORBIDDEN,
        "staff cannot hire"
    );
    assert_eq!(
        add(outsider.clone(), "outsider", "owner").await,
        StatusCode::FORBIDDEN
    );

    let members: Value = app
        .get_json_as(&staff, "/api/v1/orgs/redbean/members")
        .await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["handle"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("brand_owner", "owner"), ("brand_staff", "staff")]);
    assert_eq!(
        app.get_as(&outsider, "/api/v1/orgs/redbean/members")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let mine: Value = app.get_json_as(&staff, "/api/v1/me/orgs").await;
    assert_eq!(mine[0]["slug"], "redbean");

    let verify = |token: String| {
        let app = &app;
        async move {
            app.send_as(
                Method::PUT,
                &token,
                "/api/v1/admin/orgs/redbean/verified",
                Some(json!({"verified": true})),
            )
            .await
        }
    };
    assert_eq!(
        verify(owner.clone()).await.status(),
        StatusCode::FORBIDDEN,
        "brands cannot verify themselves"
    );
    assert_eq!(verify(admin).await.status(), StatusCode::OK);
    let public: Value = app.get_json("/api/v1/orgs/RedBean").await;
    assert_eq!(public["verified"], true);
}

#[tokio::test]
async fn an_organisation_always_keeps_an_owner() {
    let app = spawn_app().await;
    let owner = app.member("solo_owner").await;
    let staff = app.member("helper").await;
    app.send_as(
        Method::POST,
        &owner,
        "/api/v1/orgs",
        Some(json!({"slug": "solo", "name": "Solo"})),
    )
    .await;
    let demote = app
        .send_as(
            Method::PUT,
            &owner,
            "/api/v1/orgs/solo/members/solo_owner",
            Some(json!({"role": "staff"})),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    let leave = app
        .send_as(
            Method::DELETE,
            &owner,
            "/api/v1/orgs/solo/members/solo_owner",
            None,
        )
        .await;
    assert_eq!(leave.status(), StatusCode::CONFLICT);

    app.send_as(
        Method::PUT,
        &owner,
        "/api/v1/orgs/solo/members/helper",
        Some(json!({"role": "staff"})),
    )
    .await;
    let helper_leaves = app
        .send_as(
            Method::DELETE,
            &staff,
            "/api/v1/orgs/solo/members/helper",
            None,
        )
        .await;
    assert_eq!(
        helper_leaves.status(),
        StatusCode::NO_CONTENT,
        "members may leave on their own"
    );
    let again = app
        .send_as(
            Method::DELETE,
            &owner,
            "/api/v1/orgs/solo/members/helper",
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let missing = app
        .api
        .get(app.url("/api/v1/orgs/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
