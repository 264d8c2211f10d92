//! Alipay and WeChat Pay, offline: the tests hold the providers' keys, sign and encrypt
//! notifications as the providers would, and post them to the server over HTTP. The providers'
//! APIs are stand-ins on local ports that check the merchant's signatures and answer signed as
//! the providers do, from a script of answers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

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

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::Router;

use crate::helpers::{problem, spawn_app_with, TestApp};

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

fn verifies(key: &RsaPrivateKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.to_public_key())
        .verify(message, &signature)
        .is_ok()
}

/// Serves a stand-in provider on a local port; its address.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// A provider's API, scripted: the answers it gives in turn, and the requests it was sent.
struct Script {
    /// The merchant's key, to check requests (the provider holds its public half).
    merchant: RsaPrivateKey,
    /// The provider's own key, to sign answers.
    provider: RsaPrivateKey,
    /// Status, body, and whether the answer is signed with the provider's key.
    answers: Mutex<VecDeque<(u16, Value, bool)>>,
    /// What each request asked, and whether the merchant's signature over it verified.
    requests: Mutex<Vec<(Value, bool)>>,
}

impl Script {
    fn new(merchant: &RsaPrivateKey, provider: &RsaPrivateKey) -> Arc<Script> {
        Arc::new(Script {
            merchant: merchant.clone(),
            provider: provider.clone(),
            answers: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        })
    }

    fn will_answer(&self, status: u16, body: Value, signed: bool) {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, body, signed));
    }

    fn next_answer(&self, request: Value, verified: bool) -> (u16, Value, bool) {
        self.requests.lock().unwrap().push((request, verified));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("an answer is scripted")
    }

    fn requests(&self) -> Vec<(Value, bool)> {
        self.requests.lock().unwrap().clone()
    }

    /// The key an answer is signed with: the provider's, or a forger's.
    fn signer(&self, signed: bool) -> RsaPrivateKey {
        match signed {
            true => self.provider.clone(),
            false => self.merchant.clone(),
        }
    }
}

/// Alipay's gateway: a form whose `sign` covers the other fields; the answer is the method's
/// response object and Alipay's signature over its exact text.
async fn alipay_gateway(
    State(script): State<Arc<Script>>,
    axum::Form(fields): axum::Form<BTreeMap<String, String>>,
) -> String {
    let mut signed = fields.clone();
    let signature = signed.remove("sign").unwrap_or_default();
    let text: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let verified = verifies(&script.merchant, text.join("&").as_bytes(), &signature);
    let request = json!({"method": fields["method"],
        "content": serde_json::from_str::<Value>(&fields["biz_content"]).unwrap()});
    let (_, body, good) = script.next_answer(request, verified);
    let node = format!("{}_response", fields["method"].replace('.', "_"));
    let text = body.to_string();
    let signature = sign(&script.signer(good), text.as_bytes());
    format!("{{\"{node}\":{text},\"sign\":\"{signature}\"}}")
}

/// WeChat Pay's API: requests signed in the `Authorization` header; answers signed in the
/// `Wechatpay-*` headers over `timestamp\nnonce\nbody\n`.
async fn wechatpay_api(
    State(script): State<Arc<Script>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, HeaderMap, String) {
    let authorization = headers["authorization"].to_str().unwrap();
    let part = |name: &str| {
        authorization
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
            .to_owned()
    };
    let path = uri.path_and_query().unwrap().as_str();
    let message = format!(
        "{method}\n{path}\n{}\n{}\n{body}\n",
        part("timestamp"),
        part("nonce_str")
    );
    let verified = verifies(&script.merchant, message.as_bytes(), &part("signature"));
    let body = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null);
    let request = json!({"method": method.as_str(), "path": path, "body": body});
    let (status, answer, good) = script.next_answer(request, verified);
    let text = answer.to_string();
    let at = kernel::Timestamp::now().as_millis() / 1000;
    let signature = sign(
        &script.signer(good),
        format!("{at}\nanswer\n{text}\n").as_bytes(),
    );
    let mut signed = HeaderMap::new();
    signed.insert("wechatpay-timestamp", at.to_string().parse().unwrap());
    signed.insert("wechatpay-nonce", "answer".parse().unwrap());
    signed.insert("wechatpay-signature", signature.parse().unwrap());
    signed.insert("wechatpay-serial", "PLATFORM1".parse().unwrap());
    signed.insert("content-type", "application/json".parse().unwrap());
    (StatusCode::from_u16(status).unwrap(), signed, text)
}

/// WeChat Pay's API, answering from the script.
fn wechatpay_router(script: &Arc<Script>) -> Router {
    Router::new()
        .route("/v3/pay/transactions/native", post(wechatpay_api))
        .route("/v3/refund/domestic/refunds", post(wechatpay_api))
        .route("/v3/pay/transactions/out-trade-no/{id}", get(wechatpay_api))
        .route("/v3/refund/domestic/refunds/{number}", get(wechatpay_api))
        .with_state(script.clone())
}

/// The API v3 key the tests give WeChat Pay's configuration.
const APIV3_KEY: &str = "Aa0Bb1Cc2Dd3Ee4Ff5Gg6Hh7Ii8Jj9Kk";

/// WeChat Pay configured as the tests use it, its API at `api`.
fn configure_wechatpay(
    w: &mut app::config::WechatPayConfig,
    api: String,
    merchant: &RsaPrivateKey,
    platform: &RsaPrivateKey,
) {
    w.api_base = api;
    w.mch_id = "1900000109".into();
    w.app_id = "wxd678efh567hg6787".into();
    w.serial_no = "5157F09EFDC096DE15EBE81A47057A72".into();
    w.private_key = private_pem(merchant);
    w.platform_public_key = public_pem(platform);
    w.apiv3_key = APIV3_KEY.into();
}

/// A site that offers WeChat Pay, its API a stand-in answering from the script; with the
/// merchant's and the platform's keys.
async fn wechatpay_app() -> (TestApp, Arc<Script>, RsaPrivateKey, RsaPrivateKey) {
    let (merchant_key, platform_key) = (new_key(), new_key());
    let script = Script::new(&merchant_key, &platform_key);
    let api = serve(wechatpay_router(&script)).await;
    let app = spawn_app_with({
        let (merchant_key, platform_key) = (merchant_key.clone(), platform_key.clone());
        move |c| configure_wechatpay(&mut c.mall.wechatpay, api, &merchant_key, &platform_key)
    })
    .await;
    (app, script, merchant_key, platform_key)
}

/// A notification's resource sealed as WeChat Pay seals it: AES-256-GCM under the API v3 key.
fn sealed(plain: &Value, nonce: &str) -> String {
    let cipher = Aes256Gcm::new_from_slice(APIV3_KEY.as_bytes()).unwrap();
    let text = plain.to_string();
    let payload = Payload {
        msg: text.as_bytes(),
        aad: b"wechatpay",
    };
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce.as_bytes()), payload)
        .unwrap();
    STANDARD.encode(sealed)
}

/// The body of a WeChat Pay refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, …).
fn refund_notice(event: &str, payment: &str, status: &str, amount: i64) -> String {
    let refund = json!({"mchid": "1900000109", "out_trade_no": payment,
        "transaction_id": "4200000000202611220000000001", "out_refund_no": format!("R{payment}"),
        "refund_id": "50000000382019052709732678859", "refund_status": status,
        "success_time": "2026-11-22T13:29:35+08:00", "user_received_account": "招商银行信用卡0403",
        "amount": {"total": 8800, "refund": amount, "payer_total": 8800, "payer_refund": amount}});
    json!({"id": "EV-2026112213293500001", "event_type": event,
        "resource_type": "encrypt-resource",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": sealed(&refund, "n0nceRefund1"),
            "associated_data": "wechatpay", "nonce": "n0nceRefund1", "original_type": "refund"}})
    .to_string()
}

/// Posts a WeChat Pay notification signed with `key` as of `at` (Unix seconds).
async fn notify_wechatpay(app: &TestApp, body: String, at: i64, key: &RsaPrivateKey) -> StatusCode {
    let signature = sign(key, format!("{at}\nn0nce\n{body}\n").as_bytes());
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

/// The buyer asks for a refund before shipping; the path the merchant approves it at.
async fn ask_refund(app: &TestApp, buyer: &str, order_id: &str) -> String {
    let ask = json!({"kind": "refund_only", "reason": "Wrong colour"});
    let request: Value = app
        .send_as(
            Method::POST,
            buyer,
            &format!("/api/v1/orders/{order_id}/after-sales"),
            Some(ask),
        )
        .await
        .json()
        .await
        .unwrap();
    format!(
        "/api/v1/after-sales/{}/approve",
        request["id"].as_str().unwrap()
    )
}

/// An unpaid order of ¥88.00 (a store shipping for free), its buyer and its merchant.
async fn unpaid_order(app: &TestApp, who: &str) -> (String, Value, String) {
    let merchant = app
        .merchant_shipping(&format!("{who}_merchant"), json!({"fee": 0}))
        .await;
    let product = app.product(&merchant, "Tea", &[(8800, 5)]).await;
    let buyer = app.member(&format!("{who}_buyer")).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app.checkout(&buyer, "k", &body).await.json().await.unwrap();
    (buyer, orders[0].clone(), merchant.token)
}

#[tokio::test]
async fn alipay_pay_urls_are_signed_notifications_verified_and_refunds_made_once() {
    let (merchant_key, alipay_key) = (new_key(), new_key());
    let (merchant_private, alipay_public) = (private_pem(&merchant_key), public_pem(&alipay_key));
    let script = Script::new(&merchant_key, &alipay_key);
    let gateway = serve(
        Router::new()
            .route("/gateway.do", post(alipay_gateway))
            .with_state(script.clone()),
    )
    .await;
    let gateway = format!("{gateway}/gateway.do");
    let app = spawn_app_with({
        let gateway = gateway.clone();
        move |c| {
            c.mall.alipay.app_id = "2021000123456789".into();
            c.mall.alipay.private_key = merchant_private;
            c.mall.alipay.alipay_public_key = alipay_public;
            c.mall.alipay.gateway = gateway;
        }
    })
    .await;
    let (buyer, order, merchant) = unpaid_order(&app, "ali").await;
    let order_id = order["id"].as_str().unwrap();
    let started = app.start_payment(&buyer, order_id, "alipay").await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let payment: Value = started.json().await.unwrap();
    let url = payment["pay_url"].as_str().unwrap();
    let query = url.split_once('?').unwrap().1;
    assert_eq!(url.split_once('?').unwrap().0, gateway);
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

    // Refunds. An answer not signed by Alipay, then a refusal, move nothing; approving again
    // asks under the same refund number, and Alipay's "no money moved" is checked by query.
    let approve = ask_refund(&app, &buyer, order_id).await;
    let refund_node = json!({"code": "10000", "msg": "Success", "fund_change": "Y",
        "out_trade_no": payment["id"], "refund_fee": "88.00"});
    script.will_answer(200, refund_node, false);
    script.will_answer(
        200,
        json!({"code": "40004", "msg": "Business Failed",
        "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH", "sub_msg": "卖家余额不足"}),
        true,
    );
    let forged = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(forged.status(), StatusCode::BAD_GATEWAY);
    let payment_path = format!("/api/v1/payments/{}", payment["id"].as_str().unwrap());
    let unknown = app.get_json_as(&buyer, &payment_path).await;
    assert_eq!(unknown["status"], "refunding", "the outcome is not known");
    let reject = approve.replace("/approve", "/reject");
    let no = json!({"answer": "Changed my mind"});
    let rejected = app
        .send_as(Method::POST, &merchant, &reject, Some(no))
        .await;
    assert_eq!(
        rejected.status(),
        StatusCode::CONFLICT,
        "a refund begun is finished, not dropped"
    );
    let refused = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let refused = problem(refused).await;
    assert!(
        refused["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ACQ.SELLER_BALANCE_NOT_ENOUGH"),
        "{refused}"
    );
    let still = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(still["status"], "paid");
    assert_eq!(app.balance(240, "platform").await, 0, "nothing owed yet");
    let refused = app.get_json_as(&buyer, &payment_path).await;
    assert_eq!(
        refused["status"], "succeeded",
        "a refusal leaves it as it was"
    );

    script.will_answer(
        200,
        json!({"code": "10000", "msg": "Success", "fund_change": "N"}),
        true,
    );
    script.will_answer(
        200,
        json!({"code": "10000", "msg": "Success",
        "refund_status": "REFUND_SUCCESS", "refund_amount": "88.00"}),
        true,
    );
    let approved = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(approved.status(), StatusCode::OK);
    let refunded = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(refunded["status"], "refunded");
    let shown = app.get_json_as(&buyer, &payment_path).await;
    assert_eq!(shown["status"], "refunded");
    let requests = script.requests();
    let methods: Vec<&str> = requests
        .iter()
        .map(|(r, _)| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "alipay.trade.refund",
            "alipay.trade.refund",
            "alipay.trade.refund",
            "alipay.trade.fastpay.refund.query"
        ]
    );
    assert!(
        requests.iter().all(|(_, verified)| *verified),
        "every call is signed with the merchant's key"
    );
    let numbers: Vec<&Value> = requests
        .iter()
        .map(|(r, _)| &r["content"]["out_request_no"])
        .collect();
    assert!(
        numbers.iter().all(|n| *n == numbers[0]),
        "one refund number"
    );
    assert_eq!(requests[0].0["content"]["refund_amount"], "88.00");
    // The money: received, its fee kept by Alipay, the rest paid back.
    assert_eq!(app.balance(100, "provider:alipay").await, -8800 + 53 + 8800);
    assert_eq!(app.balance(240, "platform").await, 0, "paid out");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn wechatpay_answers_and_notifications_are_verified_and_refunds_paid_out_once() {
    let (app, script, merchant_key, platform_key) = wechatpay_app().await;
    let (buyer, order, merchant) = unpaid_order(&app, "wx").await;
    let order_id = order["id"].as_str().unwrap();
    let code_url = "weixin://wxpay/bizpayurl?pr=p4lpSuKzz";
    script.will_answer(200, json!({"code_url": code_url}), false);
    script.will_answer(200, json!({"code_url": code_url}), true);
    let forged = app.start_payment(&buyer, order_id, "wechatpay").await;
    assert_eq!(
        forged.status(),
        StatusCode::BAD_GATEWAY,
        "not the platform's answer"
    );
    let started = app.start_payment(&buyer, order_id, "wechatpay").await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let payment: Value = started.json().await.unwrap();
    assert_eq!(payment["pay_url"], code_url);
    let (asked, verified) = &script.requests()[1];
    assert!(verified, "signed with the merchant's key");
    assert_eq!(asked["path"], "/v3/pay/transactions/native");
    assert_eq!(asked["body"]["out_trade_no"], payment["id"]);
    assert_eq!(asked["body"]["amount"]["total"], 8800);
    let payment_id = payment["id"].as_str().unwrap().to_owned();

    let deal = json!({"mchid": "1900000109", "appid": "wxd678efh567hg6787",
        "out_trade_no": payment_id, "transaction_id": "4200000000202611220000000001",
        "trade_state": "SUCCESS", "amount": {"total": 8800, "currency": "CNY"}});
    let body = json!({"id": "EV-2018022511223320873", "event_type": "TRANSACTION.SUCCESS",
        "resource_type": "encrypt-resource",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": sealed(&deal, "fdasflkja484"),
            "associated_data": "wechatpay", "nonce": "fdasflkja484", "original_type": "transaction"}})
    .to_string();
    let now = kernel::Timestamp::now().as_millis() / 1000;
    assert_eq!(
        notify_wechatpay(&app, body.clone(), now, &merchant_key).await,
        StatusCode::BAD_REQUEST,
        "not the platform's signature"
    );
    assert_eq!(
        notify_wechatpay(&app, body.clone(), now - 3_600, &platform_key).await,
        StatusCode::BAD_REQUEST,
        "an hour old"
    );
    let wrong_key = body.replace(&sealed(&deal, "fdasflkja484"), &STANDARD.encode([7u8; 64]));
    assert_eq!(
        notify_wechatpay(&app, wrong_key, now, &platform_key).await,
        StatusCode::BAD_REQUEST,
        "does not decrypt"
    );
    let unpaid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(unpaid["status"], "pending_payment");

    for _ in 0..3 {
        assert_eq!(
            notify_wechatpay(&app, body.clone(), now, &platform_key).await,
            StatusCode::NO_CONTENT
        );
    }
    let paid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(paid["status"], "paid");
    let shown = app
        .get_json_as(&buyer, &format!("/api/v1/payments/{payment_id}"))
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

    // A refund: WeChat Pay takes it and pays it out later. Until then the money is owed to the
    // buyer in refunds payable; its notification pays it out, once.
    let approve = ask_refund(&app, &buyer, order_id).await;
    script.will_answer(
        200,
        json!({"refund_id": "50000000382019052709732678859",
        "out_refund_no": format!("R{payment_id}"), "status": "PROCESSING",
        "amount": {"refund": 8800, "total": 8800, "currency": "CNY"}}),
        true,
    );
    let approved = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(approved.status(), StatusCode::OK);
    let (asked, verified) = &script.requests()[2];
    assert!(verified);
    assert_eq!(asked["path"], "/v3/refund/domestic/refunds");
    assert_eq!(asked["body"]["out_refund_no"], format!("R{payment_id}"));
    assert_eq!(asked["body"]["amount"]["refund"], 8800);
    let payment_path = format!("/api/v1/payments/{payment_id}");
    assert_eq!(
        app.get_json_as(&buyer, &payment_path).await["status"],
        "refunding"
    );
    assert_eq!(
        app.balance(240, "platform").await,
        8800,
        "owed to the buyer"
    );

    let refund_body = |amount: i64| refund_notice("REFUND.SUCCESS", &payment_id, "SUCCESS", amount);
    assert_eq!(
        notify_wechatpay(&app, refund_body(1), now, &platform_key).await,
        StatusCode::BAD_REQUEST,
        "not the payment's amount"
    );
    for _ in 0..3 {
        assert_eq!(
            notify_wechatpay(&app, refund_body(8800), now, &platform_key).await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        app.get_json_as(&buyer, &payment_path).await["status"],
        "refunded"
    );
    assert_eq!(app.balance(240, "platform").await, 0, "paid out");
    assert_eq!(
        app.balance(100, "provider:wechatpay").await,
        53,
        "the fee is kept"
    );
    let refunded = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await;
    assert_eq!(refunded["status"], "refunded");
    let paid_out = refunded["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"] == "the refund was paid out by WeChat Pay")
        .count();
    assert_eq!(paid_out, 1, "{refunded}");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn lost_notifications_are_made_up_for_by_asking_the_providers() {
    let (merchant_key, alipay_key, platform_key) = (new_key(), new_key(), new_key());
    let alipay = Script::new(&merchant_key, &alipay_key);
    let wechat = Script::new(&merchant_key, &platform_key);
    let gateway = serve(
        Router::new()
            .route("/gateway.do", post(alipay_gateway))
            .with_state(alipay.clone()),
    )
    .await;
    let api = serve(wechatpay_router(&wechat)).await;
    let app = spawn_app_with({
        let keys = (
            merchant_key.clone(),
            alipay_key.clone(),
            platform_key.clone(),
        );
        move |c| {
            let a = &mut c.mall.alipay;
            a.app_id = "2021000123456789".into();
            a.private_key = private_pem(&keys.0);
            a.alipay_public_key = public_pem(&keys.1);
            a.gateway = format!("{gateway}/gateway.do");
            configure_wechatpay(&mut c.mall.wechatpay, api, &keys.0, &keys.2);
        }
    })
    .await;
    let start = |buyer: String, order: String, provider: &'static str| {
        let app = &app;
        async move {
            let started = app.start_payment(&buyer, &order, provider).await;
            assert_eq!(started.status(), StatusCode::CREATED);
            let payment: Value = started.json().await.unwrap();
            payment["id"].as_str().unwrap().to_owned()
        }
    };
    let (ali_buyer, ali_order, _) = unpaid_order(&app, "ali_lost").await;
    let ali_order = ali_order["id"].as_str().unwrap().to_owned();
    let ali_payment = start(ali_buyer.clone(), ali_order.clone(), "alipay").await;
    let (wx_buyer, wx_order, wx_merchant) = unpaid_order(&app, "wx_lost").await;
    let wx_order = wx_order["id"].as_str().unwrap().to_owned();
    let code = json!({"code_url": "weixin://wxpay/bizpayurl?pr=lost"});
    wechat.will_answer(200, code.clone(), true);
    let wx_payment = start(wx_buyer.clone(), wx_order.clone(), "wechatpay").await;
    let (idle_buyer, idle_order, _) = unpaid_order(&app, "wx_idle").await;
    let idle_order = idle_order["id"].as_str().unwrap().to_owned();
    wechat.will_answer(200, code, true);
    start(idle_buyer.clone(), idle_order.clone(), "wechatpay").await;

    // The buyers paid two of them, but no notification came; the time to pay runs out. Before
    // cancelling, the providers are asked; orders are looked at oldest first.
    alipay.will_answer(
        200,
        json!({"code": "10000", "msg": "Success", "out_trade_no": ali_payment,
            "trade_no": "2026112222001400000000000009", "trade_status": "TRADE_SUCCESS",
            "total_amount": "88.00"}),
        true,
    );
    wechat.will_answer(
        200,
        json!({"mchid": "1900000109", "out_trade_no": wx_payment,
            "transaction_id": "4200000000202611220000000009", "trade_state": "SUCCESS",
            "amount": {"total": 8800, "currency": "CNY"}}),
        true,
    );
    wechat.will_answer(
        404,
        json!({"code": "ORDER_NOT_EXIST", "message": "订单不存在"}),
        true,
    );
    store::query("UPDATE orders SET pay_by = pay_by - 900001")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let cancelled = app::jobs::move_overdue(&app.state).await.unwrap();
    assert_eq!(cancelled, 1, "only the order nobody paid");
    let status = |buyer: String, order: String| {
        let app = &app;
        async move {
            let order = app
                .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
                .await;
            order["status"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(status(ali_buyer, ali_order).await, "paid");
    assert_eq!(status(wx_buyer.clone(), wx_order.clone()).await, "paid");
    assert_eq!(status(idle_buyer, idle_order).await, "cancelled");
    let asked = wechat.requests();
    assert_eq!(asked[2].0["method"], "GET");
    assert_eq!(
        asked[2].0["path"],
        format!("/v3/pay/transactions/out-trade-no/{wx_payment}?mchid=1900000109")
    );
    assert!(asked.iter().all(|(_, verified)| *verified));

    // A refund WeChat Pay is processing, whose notification never comes: after a while it is
    // asked after; once paid out it is settled, and asking again changes nothing.
    let approve = ask_refund(&app, &wx_buyer, &wx_order).await;
    let refund = |status: &str| {
        json!({"out_refund_no": format!("R{wx_payment}"), "status": status,
            "amount": {"refund": 8800, "total": 8800, "currency": "CNY"}})
    };
    wechat.will_answer(200, refund("PROCESSING"), true);
    let approved = app
        .send_as(Method::POST, &wx_merchant, &approve, None)
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let follow_up = || app::payments::service::follow_up_refunds(&app.state);
    assert_eq!(follow_up().await.unwrap(), 0, "not asked after at once");
    store::query("UPDATE payments SET updated_at = updated_at - 600001")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    wechat.will_answer(200, refund("SUCCESS"), true);
    assert_eq!(follow_up().await.unwrap(), 1);
    assert_eq!(follow_up().await.unwrap(), 0);
    let payment = app
        .get_json_as(&wx_buyer, &format!("/api/v1/payments/{wx_payment}"))
        .await;
    assert_eq!(payment["status"], "refunded");
    assert_eq!(
        wechat.requests().last().unwrap().0["path"],
        format!("/v3/refund/domestic/refunds/R{wx_payment}")
    );
    assert_eq!(app.balance(240, "platform").await, 0, "paid out");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_refund_wechat_pay_could_not_pay_out_is_owed_until_staff_pay_it_by_hand() {
    let (app, script, _, platform_key) = wechatpay_app().await;
    let (buyer, order, merchant) = unpaid_order(&app, "wx_owed").await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    script.will_answer(
        200,
        json!({"code_url": "weixin://wxpay/bizpayurl?pr=owed"}),
        true,
    );
    let started = app.start_payment(&buyer, &order_id, "wechatpay").await;
    let payment: Value = started.json().await.unwrap();
    let payment_id = payment["id"].as_str().unwrap().to_owned();
    // Paid; then WeChat Pay takes the refund but cannot pay it out (the buyer's card closed).
    script.will_answer(
        200,
        json!({"mchid": "1900000109", "out_trade_no": payment_id,
            "transaction_id": "4200000000202611220000000077", "trade_state": "SUCCESS",
            "amount": {"total": 8800, "currency": "CNY"}}),
        true,
    );
    store::query("UPDATE orders SET pay_by = pay_by - 900001")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    app::jobs::move_overdue(&app.state).await.unwrap();
    let approve = ask_refund(&app, &buyer, &order_id).await;
    script.will_answer(
        200,
        json!({"out_refund_no": format!("R{payment_id}"), "status": "PROCESSING"}),
        true,
    );
    let approved = app.send_as(Method::POST, &merchant, &approve, None).await;
    assert_eq!(approved.status(), StatusCode::OK);
    let now = kernel::Timestamp::now().as_millis() / 1000;
    let abnormal = refund_notice("REFUND.ABNORMAL", &payment_id, "ABNORMAL", 8800);
    for _ in 0..2 {
        let answered = notify_wechatpay(&app, abnormal.clone(), now, &platform_key).await;
        assert_eq!(answered, StatusCode::NO_CONTENT);
    }
    let payment_path = format!("/api/v1/payments/{payment_id}");
    assert_eq!(
        app.get_json_as(&buyer, &payment_path).await["status"],
        "refund_failed"
    );
    assert_eq!(
        app.balance(240, "platform").await,
        8800,
        "owed to the buyer"
    );

    let owed_path = "/api/v1/admin/refunds-owed";
    assert_eq!(
        app.get_as(&merchant, owed_path).await.status(),
        StatusCode::FORBIDDEN
    );
    let admin = app.admin("refund_desk").await;
    let owed = app.get_json_as(&admin, owed_path).await;
    assert_eq!(owed.as_array().unwrap().len(), 1, "{owed}");
    assert_eq!(owed[0]["id"], payment_id.as_str());
    let by_hand = format!("/api/v1/admin/payments/{payment_id}/refunded-by-hand");
    let blank = app
        .send_as(
            Method::POST,
            &admin,
            &by_hand,
            Some(json!({"reference": " "})),
        )
        .await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reference = json!({"reference": "WeChat Pay console 50300000512"});
    let paid = app
        .send_as(Method::POST, &admin, &by_hand, Some(reference.clone()))
        .await;
    assert_eq!(paid.status(), StatusCode::OK);
    let again = app
        .send_as(Method::POST, &admin, &by_hand, Some(reference))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "paid once");
    assert_eq!(
        app.get_json_as(&buyer, &payment_path).await["status"],
        "refunded"
    );
    assert_eq!(app.balance(240, "platform").await, 0, "no longer owed");
    assert!(app
        .get_json_as(&admin, owed_path)
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let timeline = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order_id}"))
        .await["timeline"]
        .to_string();
    assert!(
        timeline.contains("WeChat Pay could not pay the refund out"),
        "{timeline}"
    );
    assert!(timeline.contains("paid by Hongshu's staff (WeChat Pay console 50300000512)"));
    app.assert_ledger_balances().await;
}
