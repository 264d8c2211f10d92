use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{item_strings, problem, spawn_app, TestApp};

async fn open(app: &TestApp, admin: &str, kind: &str, owner: &str) -> String {
    let body = json!({"kind": kind, "owner": owner, "currency": "CNY"});
    let response = app
        .send_as(
            Method::POST,
            admin,
            "/api/v1/admin/ledger/accounts",
            Some(body),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let account: Value = response.json().await.unwrap();
    account["id"].as_str().unwrap().to_owned()
}

fn transfer(id: u64, debit: &str, credit: &str, amount: i64, reason: &str, linked: bool) -> Value {
    json!({"id": id.to_string(), "debit_account_id": debit, "credit_account_id": credit, "amount": amount,
           "currency": "CNY", "reason": reason, "linked": linked})
}

async fn submit(
    app: &TestApp,
    admin: &str,
    transfers: Vec<Value>,
) -> Vec<(String, Option<String>)> {
    let response = app
        .send_as(
            Method::POST,
            admin,
            "/api/v1/admin/ledger/transfers",
            Some(json!({"transfers": transfers})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["error"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_order_payment_splits_all_or_nothing_and_the_books_balance() {
    let app = spawn_app().await;
    let admin = app.admin("finance_admin").await;
    let cash = open(&app, &admin, "provider_cash", "provider:sandbox").await;
    let clearing = open(&app, &admin, "buyer_payments", "platform").await;
    let merchant = open(&app, &admin, "merchant_payable", "store:1").await;
    let revenue = open(&app, &admin, "commission_revenue", "platform").await;
    let creator = open(&app, &admin, "creator_earnings", "user:7").await;
    assert_eq!(
        open(&app, &admin, "merchant_payable", "store:1").await,
        merchant,
        "opening twice finds the same account"
    );

    let order = vec![
        transfer(1001, &cash, &clearing, 10_000, "order_payment", true),
        transfer(1002, &clearing, &merchant, 8_500, "merchant_share", true),
        transfer(
            1003,
            &clearing,
            &revenue,
            1_000,
            "platform_commission",
            true,
        ),
        transfer(1004, &clearing, &creator, 500, "creator_commission", false),
    ];
    let created = submit(&app, &admin, order.clone()).await;
    assert!(
        created.iter().all(|(status, _)| status == "created"),
        "{created:?}"
    );
    let retried = submit(&app, &admin, order).await;
    assert!(
        retried.iter().all(|(status, _)| status == "already_exists"),
        "a retry moves nothing: {retried:?}"
    );
    let changed = submit(
        &app,
        &admin,
        vec![transfer(
            1002,
            &clearing,
            &merchant,
            9_000,
            "merchant_share",
            false,
        )],
    )
    .await;
    assert_eq!(
        changed[0].1.as_deref(),
        Some("exists_with_different_fields")
    );

    // A payout beyond what the store is owed fails, and takes its linked partner with it.
    let payout = vec![
        transfer(2001, &creator, &cash, 100, "payout", true),
        transfer(2002, &merchant, &cash, 8_501, "payout", false),
    ];
    let refused = submit(&app, &admin, payout).await;
    assert_eq!(refused[0].1.as_deref(), Some("linked_event_failed"));
    assert_eq!(refused[1].1.as_deref(), Some("exceeds_credits"));

    let store: Value = app
        .get_json_as(&admin, &format!("/api/v1/admin/ledger/accounts/{merchant}"))
        .await;
    assert_eq!(
        (
            store["credits_posted"].as_i64(),
            store["debits_posted"].as_i64()
        ),
        (Some(8_500), Some(0))
    );
    assert_eq!(store["kind"], "merchant_payable");
    let creator_account: Value = app
        .get_json_as(&admin, &format!("/api/v1/admin/ledger/accounts/{creator}"))
        .await;
    assert_eq!(
        creator_account["debits_posted"], 0,
        "the refused chain left nothing behind"
    );

    let trial: Value = app
        .get_json_as(&admin, "/api/v1/admin/ledger/trial-balance")
        .await;
    assert_eq!(trial["currencies"][0]["balanced"], true);
    assert_eq!(trial["currencies"][0]["debits_posted"], 20_000);
    assert_eq!(trial["accounts"].as_array().unwrap().len(), 5);

    let page: Value = app
        .get_json_as(
            &admin,
            &format!("/api/v1/admin/ledger/accounts/{clearing}/transfers?limit=2"),
        )
        .await;
    let ids: Vec<&str> = item_strings(&page, "id");
    assert_eq!(ids, ["1004", "1003"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get_json_as(
            &admin,
            &format!("/api/v1/admin/ledger/accounts/{clearing}/transfers?limit=2&cursor={cursor}"),
        )
        .await;
    let ids: Vec<&str> = item_strings(&rest, "id");
    assert_eq!(ids, ["1002", "1001"]);
    let one: Value = app
        .get_json_as(&admin, "/api/v1/admin/ledger/transfers/1003")
        .await;
    assert_eq!(
        (one["reason"].as_str(), one["amount"].as_i64()),
        (Some("platform_commission"), Some(1_000))
    );
}

#[tokio::test]
async fn a_payment_hold_reserves_then_posts_part_of_it() {
    let app = spawn_app().await;
    let admin = app.admin("escrow_admin").await;
    let cash = open(&app, &admin, "provider_cash", "provider:sandbox").await;
    let escrow = open(&app, &admin, "brand_deal_escrow", "org:1").await;
    let creator = open(&app, &admin, "creator_earnings", "user:9").await;
    submit(
        &app,
        &admin,
        vec![transfer(1, &cash, &escrow, 5_000, "deal_escrow", false)],
    )
    .await;
    let mut hold = transfer(2, &escrow, &creator, 5_000, "deal_escrow", false);
    hold["kind"] = json!("pending");
    hold["timeout_seconds"] = json!(3600);
    assert_eq!(submit(&app, &admin, vec![hold]).await[0].0, "created");
    let reserved: Value = app
        .get_json_as(&admin, &format!("/api/v1/admin/ledger/accounts/{escrow}"))
        .await;
    assert_eq!(reserved["debits_pending"], 5_000);

    let mut post = transfer(3, &escrow, &creator, 4_000, "deal_escrow", false);
    post["kind"] = json!("post_pending");
    post["pending_id"] = json!("2");
    assert_eq!(
        submit(&app, &admin, vec![post.clone()]).await[0].0,
        "created"
    );
    post["id"] = json!("4");
    assert_eq!(
        submit(&app, &admin, vec![post]).await[0].1.as_deref(),
        Some("pending_transfer_already_posted")
    );
    let settled: Value = app
        .get_json_as(&admin, &format!("/api/v1/admin/ledger/accounts/{creator}"))
        .await;
    assert_eq!(
        (
            settled["credits_posted"].as_i64(),
            settled["credits_pending"].as_i64()
        ),
        (Some(4_000), Some(0))
    );
}

#[tokio::test]
async fn only_administrators_see_or_move_money_and_bad_requests_name_the_field() {
    let app = spawn_app().await;
    let member = app.member("curious").await;
    let admin = app.admin("money_admin").await;
    for path in [
        "/api/v1/admin/ledger/trial-balance",
        "/api/v1/admin/ledger/transfers/1",
    ] {
        assert_eq!(
            app.get_as(&member, path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let cash = open(&app, &admin, "provider_cash", "provider:sandbox").await;
    let body = json!({"transfers": [transfer(1, &cash, &cash, 5, "adjustment", false)]});
    let refused = app
        .send_as(
            Method::POST,
            &member,
            "/api/v1/admin/ledger/transfers",
            Some(body),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let mut bad = transfer(1, &cash, "2", 5, "adjustment", false);
    bad["currency"] = json!("yuan");
    let response = app
        .send_as(
            Method::POST,
            &admin,
            "/api/v1/admin/ledger/transfers",
            Some(json!({"transfers": [bad]})),
        )
        .await;
    assert_eq!(
        problem(response).await["errors"][0]["field"],
        "transfers[0].currency"
    );
    let empty = app
        .send_as(
            Method::POST,
            &admin,
            "/api/v1/admin/ledger/transfers",
            Some(json!({"transfers": []})),
        )
        .await;
    assert_eq!(problem(empty).await["errors"][0]["field"], "transfers");
    let bad_owner = app
        .send_as(
            Method::POST,
            &admin,
            "/api/v1/admin/ledger/accounts",
            Some(json!({"kind": "provider_cash", "owner": "me", "currency": "CNY"})),
        )
        .await;
    assert_eq!(problem(bad_owner).await["errors"][0]["field"], "owner");
    let refusals = submit(
        &app,
        &admin,
        vec![transfer(5, &cash, "12345", 5, "adjustment", false)],
    )
    .await;
    assert_eq!(refusals[0].1.as_deref(), Some("credit_account_not_found"));
    assert_eq!(
        app.get_as(&admin, "/api/v1/admin/ledger/accounts/999")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(&admin, "/api/v1/admin/ledger/transfers/abc")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
