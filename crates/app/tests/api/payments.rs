//! Alipay and WeChat Pay, offline: the tests hold the providers' keys, sign and encrypt
//! notifications as the providers would, and post them to the server over HTTP.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{spawn_app_with, TestApp};

fn new_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
}

fn private_pem(key: &RsaPrivateKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn public_pem(key: &RsaPrivateKey) -> String {
    key.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    STANDARD.encode(
        SigningKey::<Sha256>::new(key.clone())
            .sign(message)
            .to_bytes(),
    )
}

/// Alipay's text to sign: sorted `k=v` joined by `&`, without the signature fields or empties.
fn alipay_text(fields: &BTreeMap<String, String>) -> String {
    let kept: Vec<String> = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && *k != "sign" && *k != "sign_type")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    kept.join("&")
}

/// An unpaid order of ¥88.00, its buyer and its merchant.
async fn unpaid_order(app: &TestApp, who: &str) -> (String, Value, String) {
    let token = app.member(&format!("{who}_merchant")).await;
    let org = json!({"slug": format!("{who}_org"), "name": "Org"});
    app.send_as(Method::POST, &token, "/api/v1/orgs", Some(org))
        .await;
    let draft = json!({"name": "Shop", "shipping": {"fee": 0}});
    let store: Value = app
        .send_as(
            Method::POST,
            &token,
            &format!("/api/v1/orgs/{who}_org/store"),
            Some(draft),
        )
        .await
        .json()
        .await
        .unwrap();
    let image = app.image_id(&token).await;
    let product = json!({"title": "Tea", "category": "tea", "state": "on_sale", "media_ids": [image],
        "skus": [{"code": "T", "name": "250g", "price": 8800, "stock": 5}]});
    let path = format!("/api/v1/stores/{}/products", store["id"].as_str().unwrap());
    let product: Value = app
        .send_as(Method::POST, &token, &path, Some(product))
        .await
        .json()
        .await
        .unwrap();
    let buyer = app.member(&format!("{who}_buyer")).await;
    let address =
        json!({"name": "Li", "phone": "13800138000", "region": "上海", "detail": "1 Road"});
    let address: Value = app
        .send_as(Method::POST, &buyer, "/api/v1/me/addresses", Some(address))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({"address_id": address["id"], "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app
        .api
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(&buyer)
        .header("Idempotency-Key", "k")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (buyer, orders[0].clone(), token)
}

#[tokio::test]
async fn alipay_pay_urls_are_signed_and_notifications_verified_before_they_count() {
    let (merchant_key, alipay_key) = (new_key(), new_key());
    let (merchant_private, alipay_public) = (private_pem(&merchant_key), public_pem(&alipay_key));
    let app = spawn_app_with(move |c| {
        c.mall.alipay.app_id = "2021000123456789".into();
        c.mall.alipay.private_key = merchant_private;
        c.mall.alipay.alipay_public_key = alipay_public;
    })
    .await;
    let (buyer, order, merchant) = unpaid_order(&app, "ali").await;
    let order_id = order["id"].as_str().unwrap();
    let started = app
        .send_as(
            Method::POST,
            &buyer,
            &format!("/api/v1/orders/{order_id}/payments"),
            Some(json!({"provider": "alipay"})),
        )
        .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let payment: Value = started.json().await.unwrap();
    let url = payment["pay_url"].as_str().unwrap();
    let (gateway, query) = url.split_once('?').unwrap();
    assert_eq!(gateway, "https://openapi.alipay.com/gateway.do");
    let params: BTreeMap<String, String> = serde_urlencoded::from_str(query).unwrap();
    assert_eq!(params["method"], "alipay.trade.page.pay");
    let mut signed = params.clone();
    let signature = signed.remove("sign").unwrap();
    let text: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let signature = Signature::try_from(STANDARD.decode(signature).unwrap().as_slice()).unwrap();
    VerifyingKey::<Sha256>::new(merchant_key.to_public_key())
        .verify(text.join("&").as_bytes(), &signature)
        .expect("the request is signed with the merchant's key");
    let content: Value = serde_json::from_str(&params["biz_content"]).unwrap();
    assert_eq!(content["out_trade_no"], payment["id"]);
    assert_eq!(content["total_amount"], "88.00");

    let mut fields: BTreeMap<String, String> = [
        ("app_id", "2021000123456789"),
        ("out_trade_no", payment["id"].as_str().unwrap()),
        ("trade_no", "2026112222001400000000000001"),
        ("total_amount", "88.00"),
        ("trade_status", "TRADE_SUCCESS"),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
        ("sign_type", "RSA2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let post = |fields: BTreeMap<String, String>| {
        let app = &app;
        async move {
            let response = app
                .api
                .post(app.url("/api/v1/payments/notify/alipay"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let mut forged = fields.clone();
    forged.insert(
        "sign".into(),
        sign(&merchant_key, alipay_text(&fields).as_bytes()),
    );
    assert_eq!(
        post(forged).await.0,
        StatusCode::BAD_REQUEST,
        "not signed by Alipay"
    );
    fields.insert(
        "sign".into(),
        sign(&alipay_key, alipay_text(&fields).as_bytes()),
    );
    let mut tampered = fields.clone();
    tampered.insert("total_amount".into(), "0.01".into());
    assert_eq!(
        post(tampered).await.0,
        StatusCode::BAD_REQUEST,
        "changed after signing"
    );
    let unpaid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(unpaid["status"], "pending_payment");

    for _ in 0..3 {
        assert_eq!(
            post(fields.clone()).await,
            (StatusCode::OK, "success".to_owned())
        );
    }
    let paid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(paid["status"], "paid");
    let cash = app
        .state
        .ledger
        .account_of(100, "provider:alipay", kernel::Currency::CNY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cash.balance.debits_posted, 8800, "received once");

    // Alipay's refund request is not made yet: approving a refund is refused, nothing moves.
    let ask = json!({"kind": "refund_only", "reason": "Wrong colour"});
    let request: Value = app
        .send_as(
            Method::POST,
            &buyer,
            &format!("/api/v1/orders/{order_id}/after-sales"),
            Some(ask),
        )
        .await
        .json()
        .await
        .unwrap();
    let approve = format!(
        "/api/v1/after-sales/{}/approve",
        request["id"].as_str().unwrap()
    );
    let refused = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let still = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(still["status"], "paid");
}

#[tokio::test]
async fn wechatpay_notifications_are_verified_fresh_and_decrypted_before_they_count() {
    let (merchant_key, platform_key) = (new_key(), new_key());
    let (merchant_private, platform_public) =
        (private_pem(&merchant_key), public_pem(&platform_key));
    let apiv3 = "Aa0Bb1Cc2Dd3Ee4Ff5Gg6Hh7Ii8Jj9Kk";
    let app = spawn_app_with(move |c| {
        let w = &mut c.mall.wechatpay;
        w.mch_id = "1900000109".into();
        w.app_id = "wxd678efh567hg6787".into();
        w.serial_no = "5157F09EFDC096DE15EBE81A47057A72".into();
        w.private_key = merchant_private;
        w.platform_public_key = platform_public;
        w.apiv3_key = apiv3.into();
    })
    .await;
    let (buyer, order, _) = unpaid_order(&app, "wx").await;
    let order_id = order["id"].as_str().unwrap();
    // Starting a Native payment asks WeChat Pay's servers for a QR code, which a test cannot
    // reach; the payment is recorded as starting it would.
    let payment = app::payments::types::Payment {
        id: app.state.ids.next_id(),
        order_id: order_id.parse::<i64>().map(kernel::Id::from_i64).unwrap(),
        provider: "wechatpay".into(),
        amount: 8800,
        currency: "CNY".into(),
        status: app::payments::types::PaymentStatus::Pending,
        provider_ref: String::new(),
        pay_url: String::new(),
        created_at: kernel::Timestamp::now(),
    };
    app::payments::store::insert_payment(&app.state.db, &payment)
        .await
        .unwrap();

    let encrypt = |plain: &Value, nonce: &str| {
        let cipher = Aes256Gcm::new_from_slice(apiv3.as_bytes()).unwrap();
        let text = plain.to_string();
        let payload = Payload {
            msg: text.as_bytes(),
            aad: b"transaction",
        };
        let sealed = cipher
            .encrypt(Nonce::from_slice(nonce.as_bytes()), payload)
            .unwrap();
        STANDARD.encode(sealed)
    };
    let deal = json!({"mchid": "1900000109", "appid": "wxd678efh567hg6787",
        "out_trade_no": payment.id.as_i64().to_string(), "transaction_id": "4200000000202611220000000001",
        "trade_state": "SUCCESS", "amount": {"total": 8800, "currency": "CNY"}});
    let body = json!({"id": "EV-2018022511223320873", "event_type": "TRANSACTION.SUCCESS",
        "resource_type": "encrypt-resource",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": encrypt(&deal, "fdasflkja484"),
            "associated_data": "transaction", "nonce": "fdasflkja484", "original_type": "transaction"}})
    .to_string();
    let send = |body: String, at: i64, key: &RsaPrivateKey| {
        let app = &app;
        let signature = sign(key, format!("{at}\nn0nce\n{body}\n").as_bytes());
        async move {
            app.api
                .post(app.url("/api/v1/payments/notify/wechatpay"))
                .header("Wechatpay-Timestamp", at.to_string())
                .header("Wechatpay-Nonce", "n0nce")
                .header("Wechatpay-Signature", signature)
                .header("Wechatpay-Serial", "PLATFORM1")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let now = kernel::Timestamp::now().as_millis() / 1000;
    assert_eq!(
        send(body.clone(), now, &merchant_key).await,
        StatusCode::BAD_REQUEST,
        "not the platform's signature"
    );
    assert_eq!(
        send(body.clone(), now - 3_600, &platform_key).await,
        StatusCode::BAD_REQUEST,
        "an hour old"
    );
    let wrong_key = body.replace(&encrypt(&deal, "fdasflkja484"), &STANDARD.encode([7u8; 64]));
    assert_eq!(
        send(wrong_key, now, &platform_key).await,
        StatusCode::BAD_REQUEST,
        "does not decrypt"
    );
    let unpaid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(unpaid["status"], "pending_payment");

    for _ in 0..3 {
        assert_eq!(
            send(body.clone(), now, &platform_key).await,
            StatusCode::NO_CONTENT
        );
    }
    let paid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(paid["status"], "paid");
    let shown = app
        .get_json_as(&buyer, &format!("/api/v1/payments/{}", payment.id.as_i64()))
        .await;
    assert_eq!(shown["provider_ref"], "4200000000202611220000000001");
    let cash = app
        .state
        .ledger
        .account_of(100, "provider:wechatpay", kernel::Currency::CNY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cash.balance.debits_posted, 8800, "received once");
}
