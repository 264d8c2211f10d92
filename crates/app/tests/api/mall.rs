use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, spawn_app, spawn_app_with, TestApp};

/// A merchant and their store.
pub(crate) struct Merchant {
    pub(crate) token: String,
    pub(crate) store: String,
}

impl TestApp {
    /// A member who founds an organisation and opens its store (¥10 shipping, free from ¥99,
    /// ¥25 to Xinjiang).
    pub(crate) async fn merchant(&self, handle: &str) -> Merchant {
        let shipping = json!({"fee": 1000, "free_over": 9900, "region_fees": {"新疆": 2500}});
        self.merchant_shipping(handle, shipping).await
    }

    /// A member who founds an organisation and opens its store with this shipping.
    pub(crate) async fn merchant_shipping(&self, handle: &str, shipping: Value) -> Merchant {
        let token = self.member(handle).await;
        let org = json!({"slug": format!("{handle}_co"), "name": format!("{handle} Co")});
        let made = self
            .send_as(Method::POST, &token, "/api/v1/orgs", Some(org))
            .await;
        assert_eq!(made.status(), StatusCode::CREATED);
        let draft = json!({"name": format!("{handle} store"), "description": "Good things",
            "shipping": shipping});
        let opened = self
            .send_as(
                Method::POST,
                &token,
                &format!("/api/v1/orgs/{handle}_co/store"),
                Some(draft),
            )
            .await;
        assert_eq!(opened.status(), StatusCode::CREATED);
        let store: Value = opened.json().await.unwrap();
        Merchant {
            token,
            store: store["id"].as_str().unwrap().to_owned(),
        }
    }

    /// A product on sale with one SKU per (price, stock); returns the product.
    pub(crate) async fn product(
        &self,
        merchant: &Merchant,
        title: &str,
        skus: &[(i64, i64)],
    ) -> Value {
        self.product_in(merchant, title, "beauty", skus).await
    }

    async fn product_in(
        &self,
        merchant: &Merchant,
        title: &str,
        category: &str,
        skus: &[(i64, i64)],
    ) -> Value {
        let image = self.image_id(&merchant.token).await;
        let skus: Vec<Value> = skus
            .iter()
            .enumerate()
            .map(|(i, (price, stock))| {
                json!({"code": format!("SKU-{i}"), "name": format!("Variant {i}"), "price": price, "stock": stock})
            })
            .collect();
        let body = json!({"title": title, "category": category, "state": "on_sale",
            "media_ids": [image], "skus": skus});
        let path = format!("/api/v1/stores/{}/products", merchant.store);
        let made = self
            .send_as(Method::POST, &merchant.token, &path, Some(body))
            .await;
        assert_eq!(made.status(), StatusCode::CREATED);
        made.json().await.unwrap()
    }

    pub(crate) async fn address(&self, token: &str, region: &str) -> String {
        let body = json!({"name": "Li Na", "phone": "13800138000", "region": region,
            "detail": "1 Nanjing Road, Shanghai"});
        let saved = self
            .send_as(Method::POST, token, "/api/v1/me/addresses", Some(body))
            .await;
        assert_eq!(saved.status(), StatusCode::CREATED);
        let address: Value = saved.json().await.unwrap();
        address["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn checkout(&self, token: &str, key: &str, body: &Value) -> Response {
        self.api
            .post(self.url("/api/v1/checkout"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// The order, asked for until `done` holds (payment notifications arrive in the background).
    async fn order_until(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut order = Value::Null;
        for _ in 0..50 {
            order = self
                .get_json_as(token, &format!("/api/v1/orders/{id}"))
                .await;
            if done(&order) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        order
    }

    /// Asks to pay for an order with a provider.
    pub(crate) async fn start_payment(&self, token: &str, order: &str, provider: &str) -> Response {
        let path = format!("/api/v1/orders/{order}/payments");
        let body = json!({ "provider": provider });
        self.send_as(Method::POST, token, &path, Some(body)).await
    }

    /// Pays an order in the sandbox and waits until it is paid.
    pub(crate) async fn pay(&self, token: &str, order: &str) -> Value {
        let started = self.start_payment(token, order, "sandbox").await;
        assert_eq!(started.status(), StatusCode::CREATED);
        let payment: Value = started.json().await.unwrap();
        assert!(payment["pay_url"]
            .as_str()
            .unwrap()
            .starts_with("/pay/sandbox/"));
        let pay = format!(
            "/api/v1/payments/{}/sandbox",
            payment["id"].as_str().unwrap()
        );
        let decided = self
            .send_as(
                Method::POST,
                token,
                &pay,
                Some(json!({"outcome": "succeed"})),
            )
            .await;
        assert_eq!(decided.status(), StatusCode::ACCEPTED);
        let paid = self
            .order_until(token, order, |o| o["status"] == "paid")
            .await;
        assert_eq!(paid["status"], "paid", "{paid}");
        payment
    }

    /// A ledger balance (credits − debits, posted) of an account of the chart, 0 when unopened.
    pub(crate) async fn balance(&self, kind: i64, owner: &str) -> i64 {
        let account = self
            .state
            .ledger
            .account_of(kind, owner, kernel::Currency::CNY)
            .await
            .unwrap();
        account.map_or(0, |a| a.balance.credits_posted - a.balance.debits_posted)
    }

    /// The merchant ships the order and the buyer confirms receipt.
    async fn ship_and_confirm(&self, merchant: &Merchant, buyer: &str, order: &str) {
        let ship = json!({"carrier": "SF Express", "tracking_number": format!("SF{order}")});
        let path = format!("/api/v1/orders/{order}");
        let shipped = self
            .send_as(
                Method::POST,
                &merchant.token,
                &format!("{path}/ship"),
                Some(ship),
            )
            .await;
        assert_eq!(shipped.status(), StatusCode::OK);
        let confirmed = self
            .send_as(Method::POST, buyer, &format!("{path}/confirm"), None)
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
    }

    /// The merchant sets the product's creator commission; the creator posts a note tagging it.
    pub(crate) async fn tagged_note(
        &self,
        merchant: &Merchant,
        creator: &str,
        product: &Value,
        percent: i64,
    ) -> Value {
        let path = format!("/api/v1/products/{}", id(product));
        let commission = json!({"title": product["title"], "category": product["category"],
            "state": "on_sale", "commission_percent": percent, "media_ids": [product["media"][0]["id"]]});
        let changed = self
            .send_as(Method::PATCH, &merchant.token, &path, Some(commission))
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        let image = self.image_id(creator).await;
        let tagged = json!({"title": "My routine", "body": "#skincare", "media_ids": [image],
            "product_ids": [product["id"]]});
        let posted = self
            .send_as(Method::POST, creator, "/api/v1/notes", Some(tagged))
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
        posted.json().await.unwrap()
    }

    /// Recomputes every balance from the transfers and checks every invariant of the ledger,
    /// then every order's money: each keeps its price when paid, or nothing.
    pub(crate) async fn assert_ledger_balances(&self) {
        let violations = ledger::audit::violations(&self.state.db).await.unwrap();
        assert!(violations.is_empty(), "{violations:?}");
        let orders = app::payments::audit::violations(&self.state.db)
            .await
            .unwrap();
        assert!(orders.is_empty(), "{orders:?}");
    }

    /// Delivers a sandbox notification that a payment succeeded, signed as the sandbox signs.
    pub(crate) async fn sandbox_paid(&self, payment: &Value, amount: i64) -> StatusCode {
        let notice = serde_json::to_vec(&json!({"payment_id": payment["id"], "outcome": "succeeded",
            "amount": amount, "currency": "CNY", "trade_no": format!("T{}", id(payment)), "sent_at": 0}))
        .unwrap();
        let signature = app::payments::sandbox::sign(&self.state.payments.sandbox_key, &notice);
        let delivered = self
            .api
            .post(self.url("/api/v1/payments/notify/sandbox"))
            .header("Hongshu-Sandbox-Signature", signature)
            .body(notice)
            .send()
            .await
            .unwrap();
        delivered.status()
    }

    async fn stock(&self, product: &str) -> i64 {
        let product = self.get_json(&format!("/api/v1/products/{product}")).await;
        product["skus"][0]["stock"].as_i64().unwrap()
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_buyer_checks_out_pays_and_confirms_and_the_money_splits_in_the_ledger() {
    let app = spawn_app().await;
    let merchant = app.merchant("glow").await;
    let other = app.merchant("tea").await;
    let buyer = app.member("shopper").await;
    let serum = app
        .product(&merchant, "Glow serum", &[(4500, 10), (8000, 5)])
        .await;
    let tea = app
        .product_in(&other, "Longjing tea", "tea", &[(3000, 50)])
        .await;
    let mall = app.get_json("/api/v1/products?category=BEAUTY").await;
    assert_eq!(mall["items"].as_array().unwrap().len(), 1);
    assert_eq!(mall["items"][0]["title"], "Glow serum");

    let serum_sku = serum["skus"][0]["id"].as_str().unwrap();
    let tea_sku = tea["skus"][0]["id"].as_str().unwrap();
    let cart = app
        .send_as(
            Method::PUT,
            &buyer,
            &format!("/api/v1/me/cart/{serum_sku}"),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert_eq!(cart.status(), StatusCode::OK);
    app.send_as(
        Method::PUT,
        &buyer,
        &format!("/api/v1/me/cart/{tea_sku}"),
        Some(json!({"quantity": 1})),
    )
    .await;
    let cart = app.get_json_as(&buyer, "/api/v1/me/cart").await;
    assert_eq!(cart.as_array().unwrap().len(), 2);

    let address = app.address(&buyer, "新疆").await;
    let cart_page = app.get_as(&buyer, "/cart").await.text().await.unwrap();
    let summary = &cart_page[cart_page
        .find("id=\"price-summary\"")
        .expect("a price summary")..];
    assert!(
        summary.contains("¥25.00"),
        "Xinjiang's shipping before placing the order"
    );
    assert!(
        summary.contains("¥170.00"),
        "items ¥120 and ¥25 shipping from each of two stores"
    );
    let shanghai = app.address(&buyer, "上海").await;
    let repriced = app
        .get_as(&buyer, &format!("/cart?address={shanghai}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        repriced.contains("id=\"cart-total\">¥140.00"),
        "¥10 shipping per store to Shanghai: {repriced}"
    );
    assert!(repriced.contains(&format!(
        "value=\"{shanghai}\" data-reprice=\"/cart?address={shanghai}\" checked"
    )));
    let body = json!({"address_id": address, "items": [
        {"sku_id": serum_sku, "quantity": 2}, {"sku_id": tea_sku, "quantity": 1}]});
    let placed = app.checkout(&buyer, "checkout-1", &body).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let orders: Value = placed.json().await.unwrap();
    let orders = orders.as_array().unwrap();
    assert_eq!(orders.len(), 2, "one order per store");
    let glow = &orders[0];
    assert_eq!(glow["items_total"], 9000);
    assert_eq!(glow["shipping_fee"], 2500, "Xinjiang's own fee");
    assert_eq!(glow["total"], 11500);
    assert_eq!(orders[1]["shipping_fee"], 2500);
    assert_eq!(app.stock(&id(&serum)).await, 8, "stock reserved");
    assert_eq!(
        app.get_json_as(&buyer, "/api/v1/me/cart").await,
        json!([]),
        "bought items leave the cart"
    );

    let order = id(glow);
    app.pay(&buyer, &order).await;
    assert_eq!(
        app.balance(110, "platform").await,
        11500,
        "the payment waits in clearing"
    );
    assert_eq!(
        app.balance(100, "provider:sandbox").await,
        -(11500 - 69),
        "less the 0.6 % fee"
    );

    let shipped = app
        .send_as(
            Method::POST,
            &merchant.token,
            &format!("/api/v1/orders/{order}/ship"),
            Some(json!({"carrier": "SF Express", "tracking_number": "SF1234567890"})),
        )
        .await;
    assert_eq!(shipped.status(), StatusCode::OK);
    let review = format!("/api/v1/orders/{order}/items/0/review");
    let early = app
        .send_as(Method::POST, &buyer, &review, Some(json!({"rating": 5})))
        .await;
    assert_eq!(
        early.status(),
        StatusCode::CONFLICT,
        "reviews come after delivery"
    );
    let confirm = format!("/api/v1/orders/{order}/confirm");
    let done: Value = app
        .send_as(Method::POST, &buyer, &confirm, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    let timeline: Vec<&str> = done["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        ["pending_payment", "paid", "shipped", "completed"]
    );
    assert_eq!(done["tracking_number"], "SF1234567890");

    // 5 % of the items (450) and the 0.6 % channel fee (69) to Hongshu, the rest to the store.
    let store_owner = format!("store:{}", merchant.store.parse::<i64>().unwrap());
    assert_eq!(app.balance(200, &store_owner).await, 11500 - 450 - 69);
    assert_eq!(app.balance(400, "platform").await, 450 + 69);
    assert_eq!(
        app.balance(110, "platform").await,
        0,
        "clearing is empty again"
    );
    let again = app.send_as(Method::POST, &buyer, &confirm, None).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        app.balance(200, &store_owner).await,
        11500 - 450 - 69,
        "confirming twice moves nothing"
    );
    let sold = app
        .get_json(&format!("/api/v1/products/{}", id(&serum)))
        .await;
    assert_eq!(sold["sold"], 2);
    let front = app.page(&app.browser(), "/shop").await;
    let popular = &front[front
        .find("id=\"popular\"")
        .expect("best sellers are shown")..];
    assert!(popular.contains("Glow serum"));

    let nosy = app.member("nosy_reviewer").await;
    let theirs = app
        .send_as(Method::POST, &nosy, &review, Some(json!({"rating": 1})))
        .await;
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    let stars = problem(
        app.send_as(Method::POST, &buyer, &review, Some(json!({"rating": 6})))
            .await,
    )
    .await;
    assert_eq!(stars["errors"][0]["field"], "rating");
    let written = app
        .send_as(
            Method::POST,
            &buyer,
            &review,
            Some(json!({"rating": 5, "body": "Glowing!"})),
        )
        .await;
    assert_eq!(written.status(), StatusCode::CREATED);
    let again = app
        .send_as(Method::POST, &buyer, &review, Some(json!({"rating": 4})))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "one review per item");
    let reviews = app
        .get_json(&format!("/api/v1/products/{}/reviews", id(&serum)))
        .await;
    assert_eq!(reviews["items"][0]["body"], "Glowing!");
    assert_eq!(reviews["items"][0]["verified_purchase"], true);
    assert_eq!(reviews["items"][0]["sku_name"], "Variant 0");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_nothing_is_reserved() {
    let app = spawn_app().await;
    let merchant = app.merchant("brush").await;
    let buyer = app.member("picky").await;
    let stranger = app.member("stranger").await;
    let product = app.product(&merchant, "Brush set", &[(1999, 5)]).await;
    let sku = product["skus"][0]["id"].as_str().unwrap();
    let address = app.address(&buyer, "上海").await;

    for quantity in [
        json!(0),
        json!(-3),
        json!(1000),
        json!(9_223_372_036_854_775_807i64),
    ] {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": quantity}]});
        let refused = problem(app.checkout(&buyer, &format!("q{quantity}"), &body).await).await;
        assert_eq!(refused["status"], 422, "{quantity}");
        assert_eq!(refused["errors"][0]["field"], "items[0].quantity");
    }
    let body = json!({"address_id": address, "items": [{"sku_id": "123", "quantity": 1}]});
    let unknown = problem(app.checkout(&buyer, "unknown", &body).await).await;
    assert_eq!(unknown["errors"][0]["field"], "items[0].sku_id");
    let others = app.address(&stranger, "上海").await;
    let body = json!({"address_id": others, "items": [{"sku_id": sku, "quantity": 1}]});
    let theirs = problem(app.checkout(&buyer, "theirs", &body).await).await;
    assert_eq!(theirs["errors"][0]["field"], "address_id");
    let no_key = app
        .send_as(
            Method::POST,
            &buyer,
            "/api/v1/checkout",
            Some(json!({"address_id": address, "items": []})),
        )
        .await;
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.stock(&id(&product)).await, 5);

    let image = app.image_id(&merchant.token).await;
    let absurd = json!({"title": "Gold", "category": "beauty", "media_ids": [image],
        "commission_percent": 95,
        "skus": [{"code": "A", "name": "A", "price": 9_223_372_036_854_775_807i64, "stock": -1}]});
    let path = format!("/api/v1/stores/{}/products", merchant.store);
    let refused = problem(
        app.send_as(Method::POST, &merchant.token, &path, Some(absurd.clone()))
            .await,
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["commission_percent", "skus[0].price", "skus[0].stock"]
    );
    let outsider = app.send_as(Method::POST, &buyer, &path, Some(absurd)).await;
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);

    // A SKU of another store's draft cannot be smuggled into an order.
    let rival = app.merchant("rival").await;
    let image = app.image_id(&rival.token).await;
    let draft = json!({"title": "Unreleased", "category": "beauty", "media_ids": [image],
        "skus": [{"code": "X", "name": "X", "price": 100, "stock": 9}]});
    let path = format!("/api/v1/stores/{}/products", rival.store);
    let hidden: Value = app
        .send_as(Method::POST, &rival.token, &path, Some(draft))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hidden["state"], "draft");
    let body = json!({"address_id": address, "items": [{"sku_id": hidden["skus"][0]["id"], "quantity": 1}]});
    let smuggled = problem(app.checkout(&buyer, "smuggled", &body).await).await;
    assert_eq!(smuggled["errors"][0]["detail"], "is not on sale");
    assert_eq!(
        app.get_as(&buyer, &format!("/api/v1/products/{}", id(&hidden)))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn orders_are_private_and_move_only_forward() {
    let app = spawn_app().await;
    let merchant = app.merchant("lamp").await;
    let buyer = app.member("reader").await;
    let stranger = app.member("nosy").await;
    let product = app.product(&merchant, "Desk lamp", &[(12900, 3)]).await;
    let address = app.address(&buyer, "北京").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app
        .checkout(&buyer, "k1", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = id(&orders[0]);
    assert_eq!(orders[0]["shipping_fee"], 0, "free over ¥99");

    let path = format!("/api/v1/orders/{order}");
    assert_eq!(
        app.get_as(&stranger, &path).await.status(),
        StatusCode::FORBIDDEN
    );
    let pay = app.start_payment(&stranger, &order, "sandbox").await;
    assert_eq!(pay.status(), StatusCode::FORBIDDEN);
    let ship = json!({"carrier": "SF", "tracking_number": "1"});
    let by_buyer = app
        .send_as(
            Method::POST,
            &buyer,
            &format!("{path}/ship"),
            Some(ship.clone()),
        )
        .await;
    assert_eq!(by_buyer.status(), StatusCode::FORBIDDEN);
    let unpaid = app
        .send_as(
            Method::POST,
            &merchant.token,
            &format!("{path}/ship"),
            Some(ship.clone()),
        )
        .await;
    assert_eq!(unpaid.status(), StatusCode::CONFLICT);

    let cancelled = app
        .send_as(Method::POST, &buyer, &format!("{path}/cancel"), None)
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        app.stock(&id(&product)).await,
        3,
        "cancelling releases the stock"
    );
    let late = problem(
        app.send_as(
            Method::POST,
            &merchant.token,
            &format!("{path}/ship"),
            Some(ship),
        )
        .await,
    )
    .await;
    assert_eq!(late["status"], 409);
    assert!(
        late["detail"].as_str().unwrap().contains("cancelled"),
        "{late}"
    );
    let twice = app
        .send_as(Method::POST, &buyer, &format!("{path}/cancel"), None)
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let listed = app
        .get_json_as(
            &merchant.token,
            &format!("/api/v1/stores/{}/orders?status=cancelled", merchant.store),
        )
        .await;
    assert_eq!(listed["items"][0]["id"], order.as_str());
}

#[tokio::test]
async fn sixty_four_buyers_for_the_last_unit_make_exactly_one_order() {
    // 64 sign-ins from one address would meet the per-address sign-in limit.
    let app = spawn_app_with(|c| c.auth.login_address_burst = 100).await;
    let merchant = app.merchant("drop").await;
    let product = app.product(&merchant, "Last pair", &[(59900, 1)]).await;
    let sku = product["skus"][0]["id"].clone();
    let mut buyers = Vec::new();
    for i in 0..64 {
        let token = app.member(&format!("buyer{i}")).await;
        let address = app.address(&token, "上海").await;
        buyers.push((token, address));
    }
    let attempts = buyers.iter().map(|(token, address)| {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 1}]});
        let app = &app;
        async move { app.checkout(token, "race", &body).await.status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let lost = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, lost), (1, 63), "{statuses:?}");
    assert_eq!(app.stock(&id(&product)).await, 0);
}

#[tokio::test]
async fn one_key_twice_is_one_order_and_a_different_request_under_it_is_refused() {
    let app = spawn_app().await;
    let merchant = app.merchant("mug").await;
    let buyer = app.member("clicker").await;
    let product = app.product(&merchant, "Mug", &[(2500, 10)]).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 2}]});
    let (first, second) = tokio::join!(
        app.checkout(&buyer, "double", &body),
        app.checkout(&buyer, "double", &body)
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert_eq!(first[0]["id"], second[0]["id"]);
    assert_eq!(app.stock(&id(&product)).await, 8, "reserved once");
    let mine = app.get_json_as(&buyer, "/api/v1/me/orders").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    let changed = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 3}]});
    let refused = problem(app.checkout(&buyer, "double", &changed).await).await;
    assert_eq!(refused["status"], 409);
}

#[tokio::test]
async fn a_notification_delivered_five_times_pays_once_and_a_forged_one_changes_nothing() {
    let app = spawn_app().await;
    let merchant = app.merchant("candle").await;
    let buyer = app.member("payer").await;
    let product = app.product(&merchant, "Candle", &[(8800, 4)]).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app.checkout(&buyer, "k", &body).await.json().await.unwrap();
    let order = id(&orders[0]);
    let total = orders[0]["total"].as_i64().unwrap();
    let payment: Value = app
        .start_payment(&buyer, &order, "sandbox")
        .await
        .json()
        .await
        .unwrap();

    let notice = |amount: i64| {
        serde_json::to_vec(
            &json!({"payment_id": payment["id"], "outcome": "succeeded", "amount": amount,
            "currency": "CNY", "trade_no": "T1", "sent_at": 0}),
        )
        .unwrap()
    };
    let send = |body: Vec<u8>, signature: String| {
        let app = &app;
        async move {
            app.api
                .post(app.url("/api/v1/payments/notify/sandbox"))
                .header("Hongshu-Sandbox-Signature", signature)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let key = &app.state.payments.sandbox_key;
    let forged = send(
        notice(total),
        app::payments::sandbox::sign(b"not the key", &notice(total)),
    )
    .await;
    assert_eq!(forged.as_u16(), 400);
    let altered = send(notice(1), app::payments::sandbox::sign(key, &notice(1))).await;
    assert_eq!(altered.as_u16(), 400, "an amount that is not the payment's");
    let unpaid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(unpaid["status"], "pending_payment");
    assert_eq!(app.balance(110, "platform").await, 0);

    let signature = app::payments::sandbox::sign(key, &notice(total));
    let deliveries = (0..5).map(|_| send(notice(total), signature.clone()));
    let statuses = futures_util::future::join_all(deliveries).await;
    assert!(statuses.iter().all(|s| s.as_u16() == 204), "{statuses:?}");
    let paid = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(paid["status"], "paid");
    let paid_events = paid["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "paid")
        .count();
    assert_eq!(paid_events, 1);
    assert_eq!(
        app.balance(110, "platform").await,
        total,
        "the money arrived once"
    );
    let shown = app
        .get_json_as(
            &buyer,
            &format!("/api/v1/payments/{}", payment["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        (shown["status"].as_str(), shown["provider_ref"].as_str()),
        (Some("succeeded"), Some("T1"))
    );
}

#[tokio::test]
async fn unpaid_orders_are_cancelled_when_their_time_runs_out() {
    let app = spawn_app().await;
    let merchant = app.merchant("scarf").await;
    let buyer = app.member("forgetful").await;
    let product = app.product(&merchant, "Silk scarf", &[(15900, 2)]).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 2}]});
    let orders: Value = app.checkout(&buyer, "k", &body).await.json().await.unwrap();
    let order = id(&orders[0]);
    assert_eq!(
        app::jobs::move_overdue(&app.state).await.unwrap(),
        0,
        "not yet due"
    );
    assert_eq!(app.stock(&id(&product)).await, 0);

    // Fifteen minutes pass.
    store::query("UPDATE orders SET pay_by = pay_by - 900001")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(app::jobs::move_overdue(&app.state).await.unwrap(), 1);
    let expired = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(expired["status"], "cancelled");
    assert_eq!(expired["timeline"][1]["detail"], "not paid in time");
    assert_eq!(
        app.stock(&id(&product)).await,
        2,
        "the stock is back on sale"
    );
    let pay = app.start_payment(&buyer, &order, "sandbox").await;
    assert_eq!(pay.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_shop_front_and_product_pages_show_what_is_on_sale() {
    let app = spawn_app().await;
    let merchant = app.merchant("pages").await;
    let product = app
        .product(&merchant, "Jade roller", &[(6900, 3), (9900, 0)])
        .await;
    let browser = app.browser();
    let shop = app.page(&browser, "/shop?category=beauty").await;
    assert!(
        shop.contains("Jade roller") && shop.contains("¥69.00"),
        "{shop}"
    );
    let page = app
        .page(&browser, &format!("/products/{}", id(&product)))
        .await;
    assert!(page.contains("Variant 0") && page.contains("Variant 1"));
    assert!(page.contains("Sold out"), "a SKU without stock says so");
    let store = app
        .page(&browser, &format!("/stores/{}", merchant.store))
        .await;
    assert!(store.contains("pages store") && store.contains("Jade roller"));

    let logo = app.image_id(&merchant.token).await;
    let draft = json!({"name": "pages store", "shipping": {"fee": 0}, "logo_media_id": logo});
    let path = format!("/api/v1/stores/{}", merchant.store);
    let updated: Value = app
        .send_as(Method::PATCH, &merchant.token, &path, Some(draft))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        updated["logo_url"].as_str().unwrap().starts_with("/media/"),
        "{updated}"
    );
    let someone = app.member("logo_thief").await;
    let theirs = app.image_id(&someone).await;
    let draft = json!({"name": "pages store", "shipping": {"fee": 0}, "logo_media_id": theirs});
    let refused = problem(
        app.send_as(Method::PATCH, &merchant.token, &path, Some(draft))
            .await,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "logo_media_id");
    let store = app
        .page(&browser, &format!("/stores/{}", merchant.store))
        .await;
    assert!(store.contains("class=\"store-logo\""));
    let cart = browser.get(app.url("/cart")).send().await.unwrap();
    let to = cart.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login"), "the cart needs signing in");
}

#[tokio::test]
async fn a_creator_earns_the_commission_on_what_their_note_sold() {
    let app = spawn_app().await;
    let merchant = app.merchant("serum").await;
    let creator = app.member("creator").await;
    let buyer = app.member("follower").await;
    let product = app.product(&merchant, "Night serum", &[(20000, 10)]).await;
    let note = app.tagged_note(&merchant, &creator, &product, 10).await;
    let shown = app
        .get_json(&format!("/api/v1/notes/{}/products", id(&note)))
        .await;
    assert_eq!(shown[0]["title"], "Night serum");
    let untaggable = json!({"title": "x", "body": "y", "media_ids": [app.image_id(&creator).await],
        "product_ids": ["42"]});
    let refused = problem(
        app.send_as(Method::POST, &creator, "/api/v1/notes", Some(untaggable))
            .await,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "product_ids");

    let sku = product["skus"][0]["id"].as_str().unwrap();
    let other_note = app.post_note(&creator, "Unrelated", "#food").await;
    let wrong = json!({"quantity": 1, "note_id": other_note["id"]});
    let cart = format!("/api/v1/me/cart/{sku}");
    let refused = problem(app.send_as(Method::PUT, &buyer, &cart, Some(wrong)).await).await;
    assert_eq!(refused["errors"][0]["field"], "note_id");
    let from_note = json!({"quantity": 2, "note_id": note["id"]});
    let added = app
        .send_as(Method::PUT, &buyer, &cart, Some(from_note))
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let line: Value = app.get_json_as(&buyer, "/api/v1/me/cart").await[0].clone();
    assert_eq!(line["note_id"], note["id"]);

    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 2, "note_id": note["id"]}]});
    let orders: Value = app
        .checkout(&buyer, "from-note", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = id(&orders[0]);
    assert_eq!(orders[0]["items"][0]["note_id"], note["id"]);
    app.pay(&buyer, &order).await;
    let ship = json!({"carrier": "SF", "tracking_number": "SF1"});
    app.send_as(
        Method::POST,
        &merchant.token,
        &format!("/api/v1/orders/{order}/ship"),
        Some(ship),
    )
    .await;
    let earnings = app.get_json_as(&creator, "/api/v1/me/earnings").await;
    assert_eq!(earnings["balance"], 0, "nothing before the buyer confirms");
    app.send_as(
        Method::POST,
        &buyer,
        &format!("/api/v1/orders/{order}/confirm"),
        None,
    )
    .await;

    // Items ¥400: 10 % to the creator (4,000), 5 % to Hongshu (2,000), the 0.6 % fee (240).
    let earnings = app.get_json_as(&creator, "/api/v1/me/earnings").await;
    assert_eq!(earnings["balance"], 4000);
    let store_owner = format!("store:{}", merchant.store.parse::<i64>().unwrap());
    assert_eq!(
        app.balance(200, &store_owner).await,
        40000 - 4000 - 2000 - 240
    );
    assert_eq!(app.balance(110, "platform").await, 0);

    // A creator buying through their own note earns nothing.
    let own = app.address(&creator, "上海").await;
    let body = json!({"address_id": own, "items": [{"sku_id": sku, "quantity": 1, "note_id": note["id"]}]});
    let orders: Value = app
        .checkout(&creator, "own", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = id(&orders[0]);
    app.pay(&creator, &order).await;
    app.ship_and_confirm(&merchant, &creator, &order).await;
    assert_eq!(
        app.get_json_as(&creator, "/api/v1/me/earnings").await["balance"],
        4000
    );
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn refunds_give_the_money_back_exactly_and_take_back_the_commission() {
    let app = spawn_app().await;
    let merchant = app.merchant("refund").await;
    let creator = app.member("refund_creator").await;
    let buyer = app.member("refund_buyer").await;
    let product = app.product(&merchant, "Clay mask", &[(10000, 10)]).await;
    let note = app.tagged_note(&merchant, &creator, &product, 20).await;
    let address = app.address(&buyer, "上海").await;
    let sku = product["skus"][0]["id"].clone();
    let buy = |key: &'static str| {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 1, "note_id": note["id"]}]});
        let app = &app;
        let buyer = &buyer;
        async move {
            let orders: Value = app.checkout(buyer, key, &body).await.json().await.unwrap();
            id(&orders[0])
        }
    };
    let store_owner = format!("store:{}", merchant.store.parse::<i64>().unwrap());
    let creator_owner = format!(
        "user:{}",
        app.get_json_as(&creator, "/api/v1/me").await["id"]
            .as_str()
            .unwrap()
    );

    // Refund only, before shipping: from clearing, the stock back on sale.
    let first = buy("first").await;
    app.pay(&buyer, &first).await;
    let ask = |order: &str, kind: &str| {
        let path = format!("/api/v1/orders/{order}/after-sales");
        let body = json!({"kind": kind, "reason": "Changed my mind"});
        let app = &app;
        let buyer = &buyer;
        async move { app.send_as(Method::POST, buyer, &path, Some(body)).await }
    };
    assert_eq!(
        ask(&first, "return_and_refund").await.status(),
        StatusCode::CONFLICT,
        "nothing shipped to return"
    );
    let request: Value = ask(&first, "refund_only").await.json().await.unwrap();
    assert_eq!(
        ask(&first, "refund_only").await.status(),
        StatusCode::CONFLICT,
        "one open request"
    );
    let approve = format!("/api/v1/after-sales/{}/approve", id(&request));
    assert_eq!(
        app.send_as(Method::POST, &buyer, &approve, None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let approved: Value = app
        .send_as(Method::POST, &merchant.token, &approve, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "refunded");
    let refunded = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{first}"))
        .await;
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(app.stock(&id(&product)).await, 10);
    assert_eq!(app.balance(110, "platform").await, 0);
    assert_eq!(app.balance(240, "platform").await, 0, "refunds paid out");
    assert_eq!(
        app.balance(100, "provider:sandbox").await,
        60,
        "the provider keeps its fee"
    );
    let again = app
        .send_as(Method::POST, &merchant.token, &approve, None)
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Return and refund after completion: the split is reversed to the fen.
    let second = buy("second").await;
    app.pay(&buyer, &second).await;
    app.ship_and_confirm(&merchant, &buyer, &second).await;
    assert_eq!(app.balance(210, &creator_owner).await, 2000);
    assert_eq!(
        app.balance(200, &store_owner).await,
        10000 - 2000 - 500 - 60
    );
    let request: Value = ask(&second, "return_and_refund")
        .await
        .json()
        .await
        .unwrap();
    let reject = format!("/api/v1/after-sales/{}/reject", id(&request));
    let rejected: Value = app
        .send_as(
            Method::POST,
            &merchant.token,
            &reject,
            Some(json!({"answer": "Opened and used"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rejected["status"].as_str(), rejected["answer"].as_str()),
        (Some("rejected"), Some("Opened and used"))
    );
    let request: Value = ask(&second, "return_and_refund")
        .await
        .json()
        .await
        .unwrap();
    let awaiting = format!("/api/v1/stores/{}/orders?after_sales=true", merchant.store);
    let open = app.get_json_as(&merchant.token, &awaiting).await;
    let open: Vec<&str> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(open, [second.as_str()], "the store's after-sales to answer");
    let approve = format!("/api/v1/after-sales/{}/approve", id(&request));
    let approved = app
        .send_as(Method::POST, &merchant.token, &approve, None)
        .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let open = app.get_json_as(&merchant.token, &awaiting).await;
    assert_eq!(open["items"].as_array().unwrap().len(), 0, "answered");
    assert_eq!(
        app.balance(210, &creator_owner).await,
        0,
        "the commission is clawed back"
    );
    assert_eq!(app.balance(200, &store_owner).await, 0);
    assert_eq!(app.balance(400, "platform").await, 0);
    assert_eq!(app.balance(240, "platform").await, 0);
    let history = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{second}/after-sales"))
        .await;
    assert_eq!(history.as_array().unwrap().len(), 2);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn the_settlement_statement_reconciles_with_the_ledger_to_the_fen() {
    let app = spawn_app().await;
    let merchant = app.merchant("ledgerly").await;
    let buyer = app.member("statement_buyer").await;
    let product = app.product(&merchant, "Tea set", &[(12345, 20)]).await;
    let address = app.address(&buyer, "新疆").await;
    let started = kernel::Timestamp::now().as_millis();
    let sku = product["skus"][0]["id"].clone();
    let mut completed = Vec::new();
    for (i, quantity) in [1, 2, 3].into_iter().enumerate() {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": quantity}]});
        let orders: Value = app
            .checkout(&buyer, &format!("s{i}"), &body)
            .await
            .json()
            .await
            .unwrap();
        let order = id(&orders[0]);
        app.pay(&buyer, &order).await;
        app.ship_and_confirm(&merchant, &buyer, &order).await;
        completed.push(order);
    }
    let ask = json!({"kind": "return_and_refund", "reason": "Cracked lid"});
    let request: Value = app
        .send_as(
            Method::POST,
            &buyer,
            &format!("/api/v1/orders/{}/after-sales", completed[0]),
            Some(ask),
        )
        .await
        .json()
        .await
        .unwrap();
    app.send_as(
        Method::POST,
        &merchant.token,
        &format!("/api/v1/after-sales/{}/approve", id(&request)),
        None,
    )
    .await;
    let ended = kernel::Timestamp::now().as_millis() + 1;

    let path = format!(
        "/api/v1/stores/{}/statement?from={started}&to={ended}",
        merchant.store
    );
    let statement = app.get_json_as(&merchant.token, &path).await;
    let n = |k: &str| statement[k].as_i64().unwrap();
    assert_eq!(n("orders_completed"), 3);
    assert_eq!(
        n("sales"),
        12345 * 6,
        "free shipping from ¥99, so the items"
    );
    assert_eq!(
        n("sales") - n("commission") - n("channel_fees") - n("creator_commissions") - n("refunded"),
        n("payable")
    );
    let store_owner = format!("store:{}", merchant.store.parse::<i64>().unwrap());
    assert_eq!(
        n("payable"),
        app.balance(200, &store_owner).await,
        "the ledger agrees"
    );
    assert!(n("refunded") > 0);
    let buyer_view = app.get_as(&buyer, &path).await;
    assert_eq!(buyer_view.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_back_office_changes_prices_stock_and_state_and_shows_the_statement() {
    let app = spawn_app().await;
    let merchant = app.merchant("office").await;
    let product = app.product(&merchant, "Teapot", &[(9900, 4)]).await;
    let sku = product["skus"][0]["id"].as_str().unwrap();
    let (browser, _) = app.signed_in_browser("office").await;
    let manage = format!("/stores/{}/manage", merchant.store);
    let page = app.page(&browser, &manage).await;
    assert!(
        page.contains("Teapot") && page.contains("value=\"99.00\""),
        "{page}"
    );
    let csrf = crate::helpers::csrf_of(&page);

    let edit = [
        ("_csrf", csrf.as_str()),
        ("price", "129.50"),
        ("stock", "40"),
    ];
    let edited = app
        .submit(&browser, &format!("/skus/{sku}/edit"), &edit)
        .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let now = app
        .get_json(&format!("/api/v1/products/{}", id(&product)))
        .await;
    assert_eq!(
        (
            now["skus"][0]["price"].as_i64(),
            now["skus"][0]["stock"].as_i64()
        ),
        (Some(12950), Some(40))
    );
    let bad = [
        ("_csrf", csrf.as_str()),
        ("price", "12.345"),
        ("stock", "1"),
    ];
    let refused = app
        .submit(&browser, &format!("/skus/{sku}/edit"), &bad)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let off = [("_csrf", csrf.as_str()), ("state", "off_sale")];
    app.submit(&browser, &format!("/products/{}/state", id(&product)), &off)
        .await;
    let hidden = app
        .api
        .get(app.url(&format!("/api/v1/products/{}", id(&product))))
        .send()
        .await
        .unwrap();
    assert_eq!(
        hidden.status(),
        StatusCode::NOT_FOUND,
        "off sale, hidden from buyers"
    );
    let statement = app
        .page(&browser, &format!("/stores/{}/statement", merchant.store))
        .await;
    assert!(
        statement.contains("id=\"statement-payable\">¥0.00"),
        "{statement}"
    );

    let orders = app
        .page(
            &browser,
            &format!("/stores/{}/orders?status=paid", merchant.store),
        )
        .await;
    assert!(
        orders.contains("id=\"order-filters\"") && orders.contains("?after_sales=true"),
        "{orders}"
    );
    assert!(
        orders.contains("orders?status=paid\" class=\"current\""),
        "the current filter is marked"
    );

    let stranger = app.browser();
    let other = app.page(&stranger, &manage).await;
    assert!(!other.contains("Teapot"), "only the store's staff");
}

#[tokio::test]
async fn the_back_office_adds_a_product_from_its_form_and_a_refused_form_keeps_what_was_typed() {
    let app = spawn_app().await;
    let merchant = app.merchant("former").await;
    let photo = app.image_id(&merchant.token).await;
    let (browser, _) = app.signed_in_browser("former").await;
    let new = format!("/stores/{}/products/new", merchant.store);
    let manage = app
        .page(&browser, &format!("/stores/{}/manage", merchant.store))
        .await;
    assert!(manage.contains(&format!("href=\"{new}\"")), "{manage}");
    let form_page = app.page(&browser, &new).await;
    assert!(form_page.contains("data-media-picker") && form_page.contains("sku_price_2"));
    let csrf = crate::helpers::csrf_of(&form_page);

    let mut fields = vec![
        ("_csrf", csrf.clone()),
        ("title", "Silk scarf".to_owned()),
        ("description", "Hand-rolled edges".to_owned()),
        ("category", "fashion".to_owned()),
        ("commission_percent", "12".to_owned()),
        ("state", "on_sale".to_owned()),
        ("media_ids", photo.clone()),
        ("sku_name_0", "Red".to_owned()),
        ("sku_code_0", "SC-R".to_owned()),
        ("sku_price_0", "1,280".to_owned()),
        ("sku_stock_0", "many".to_owned()),
        // A blank row in between is skipped.
        ("sku_name_2", "Blue".to_owned()),
        ("sku_code_2", "SC-B".to_owned()),
        ("sku_price_2", "1280.00".to_owned()),
        ("sku_stock_2", "3".to_owned()),
        ("sku_weight_g_2", "90".to_owned()),
    ];
    let refused = app.submit(&browser, &new, &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = refused.text().await.unwrap();
    for kept in ["value=\"Silk scarf\"", "value=\"1,280\"", "value=\"SC-B\""] {
        assert!(again.contains(kept), "{kept} kept: {again}");
    }
    assert!(
        again.contains("price: must be an amount in yuan"),
        "{again}"
    );
    assert!(again.contains("stock: must be a whole number"), "{again}");
    assert!(
        again.contains(&format!("data-id=\"{photo}\"")),
        "the photo stays picked"
    );
    let none = app
        .get_json(&format!("/api/v1/stores/{}/products", merchant.store))
        .await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "nothing made");

    fields.retain(|(k, _)| !k.ends_with("_0"));
    fields.extend([
        ("sku_name_0", "Red".to_owned()),
        ("sku_code_0", "SC-R".to_owned()),
        ("sku_price_0", "1280".to_owned()),
        ("sku_stock_0", "5".to_owned()),
    ]);
    let made = app.submit(&browser, &new, &fields).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let listed = app
        .get_json(&format!("/api/v1/stores/{}/products", merchant.store))
        .await;
    let product = &listed["items"][0];
    assert_eq!(product["title"], "Silk scarf");
    assert_eq!(product["commission_percent"], 12);
    let skus: Vec<(String, i64, i64, i64)> = product["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["price"].as_i64().unwrap(),
                s["stock"].as_i64().unwrap(),
                s["weight_g"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skus,
        [
            ("SC-R".to_owned(), 128_000, 5, 0),
            ("SC-B".to_owned(), 128_000, 3, 90)
        ]
    );

    app.member("not_staff").await;
    let (outsider, csrf) = app.signed_in_browser("not_staff").await;
    let mut theirs = fields.clone();
    theirs[0].1 = csrf;
    let forbidden = app.submit(&outsider, &new, &theirs).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_composer_tags_products_and_the_note_page_sells_them() {
    let app = spawn_app().await;
    let merchant = app.merchant("picker").await;
    let product = app.product(&merchant, "Bamboo whisk", &[(3900, 8)]).await;
    let writer = app.member("picker_writer").await;
    let media = app.image_id(&writer).await;
    let (browser, csrf) = app.signed_in_browser("picker_writer").await;
    let composer = app.page(&browser, "/notes/new").await;
    let tick = format!("product_{}", id(&product));
    assert!(
        composer.contains(&format!("name=\"{tick}\"")),
        "the picker offers what is on sale"
    );
    let form = [
        ("_csrf", csrf.as_str()),
        ("title", "Matcha at home"),
        ("body", "Whisk it well #tea"),
        ("media_ids", media.as_str()),
        ("visibility", "public"),
        (tick.as_str(), "on"),
    ];
    let posted = app.submit(&browser, "/notes/new", &form).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let note = posted.headers()["location"].to_str().unwrap().to_owned();
    let page = app.page(&browser, &note).await;
    assert!(page.contains("Bamboo whisk") && page.contains("?note="));
    let edit = app.page(&browser, &format!("{note}/edit")).await;
    assert!(
        edit.contains(&format!("name=\"{tick}\" checked")),
        "editing keeps the tag"
    );
}

#[tokio::test]
async fn a_payment_for_a_cancelled_order_goes_straight_back() {
    let app = spawn_app().await;
    let merchant = app.merchant("late").await;
    let buyer = app.member("late_payer").await;
    let product = app.product(&merchant, "Fan", &[(5000, 3)]).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    let orders: Value = app
        .checkout(&buyer, "late", &body)
        .await
        .json()
        .await
        .unwrap();
    let order = id(&orders[0]);
    let total = orders[0]["total"].as_i64().unwrap();
    let payment: Value = app
        .start_payment(&buyer, &order, "sandbox")
        .await
        .json()
        .await
        .unwrap();
    app.send_as(
        Method::POST,
        &buyer,
        &format!("/api/v1/orders/{order}/cancel"),
        None,
    )
    .await;

    // The buyer had the sandbox page open and paid anyway.
    let notice = serde_json::to_vec(&json!({"payment_id": payment["id"], "outcome": "succeeded",
        "amount": total, "currency": "CNY", "trade_no": "LATE1", "sent_at": 0}))
    .unwrap();
    let signature = app::payments::sandbox::sign(&app.state.payments.sandbox_key, &notice);
    for _ in 0..2 {
        let delivered = app
            .api
            .post(app.url("/api/v1/payments/notify/sandbox"))
            .header("Hongshu-Sandbox-Signature", signature.clone())
            .body(notice.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(delivered.status(), StatusCode::NO_CONTENT);
    }
    let after = app
        .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(after["status"], "cancelled");
    let refunded = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"].as_str().unwrap().contains("refunded"))
        .count();
    assert_eq!(refunded, 1, "{after}");
    let shown = app
        .get_json_as(
            &buyer,
            &format!("/api/v1/payments/{}", payment["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(shown["status"], "refunded");
    assert_eq!(
        app.balance(110, "platform").await,
        0,
        "nothing left in clearing"
    );
    assert_eq!(app.balance(240, "platform").await, 0);
    assert_eq!(app.stock(&id(&product)).await, 3);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn two_payments_of_one_order_pay_it_once_whichever_arrives_first() {
    let app = spawn_app().await;
    let merchant = app.merchant("twice").await;
    let buyer = app.member("double_payer").await;
    let product = app.product(&merchant, "Kettle", &[(12000, 5)]).await;
    let address = app.address(&buyer, "上海").await;
    let mut kept = 0;
    for (key, newer_first) in [("newer-first", true), ("older-first", false)] {
        let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
        let orders: Value = app.checkout(&buyer, key, &body).await.json().await.unwrap();
        let (order, total) = (id(&orders[0]), orders[0]["total"].as_i64().unwrap());
        let mut payments = Vec::new();
        for _ in 0..2 {
            let started = app.start_payment(&buyer, &order, "sandbox").await;
            payments.push(started.json::<Value>().await.unwrap());
        }
        if newer_first {
            payments.reverse();
        }
        for payment in &payments {
            assert_eq!(
                app.sandbox_paid(payment, total).await,
                StatusCode::NO_CONTENT
            );
        }
        let paid = app
            .get_json_as(&buyer, &format!("/api/v1/orders/{order}"))
            .await;
        assert_eq!(paid["status"], "paid", "{key}");
        let mut statuses = Vec::new();
        for payment in &payments {
            let path = format!("/api/v1/payments/{}", id(payment));
            statuses.push(app.get_json_as(&buyer, &path).await["status"].clone());
        }
        assert_eq!(
            statuses,
            [json!("succeeded"), json!("refunded")],
            "{key}: the first to arrive pays"
        );
        kept += total;
        assert_eq!(
            app.balance(110, "platform").await,
            kept,
            "{key}: clearing holds one price"
        );
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn the_me_page_and_the_header_lead_to_the_cart_orders_earnings_and_ones_stores() {
    let app = spawn_app().await;
    let merchant = app.merchant("corner").await;
    let product = app.product(&merchant, "Tea tin", &[(3900, 9)]).await;
    let sku = product["skus"][0]["id"].as_str().unwrap();
    let token = app.member("newcomer").await;
    let (browser, _) = app.signed_in_browser("newcomer").await;
    let put = app
        .send_as(
            Method::PUT,
            &token,
            &format!("/api/v1/me/cart/{sku}"),
            Some(json!({"quantity": 2})),
        )
        .await;
    assert!(put.status().is_success(), "{}", put.status());

    let me = app.page(&browser, "/@newcomer").await;
    for link in [
        "id=\"me-cart\"",
        "id=\"me-orders\"",
        "id=\"me-earnings\"",
        "id=\"first-note\"",
    ] {
        assert!(me.contains(link), "{link} on one's own profile");
    }
    assert!(
        me.contains("id=\"cart-count\">2<"),
        "the header counts the cart's units"
    );
    assert!(
        me.contains("aria-current=\"page\"><svg"),
        "the Me tab is the current one"
    );
    let (owner, _) = app.signed_in_browser("corner").await;
    let theirs = app.page(&owner, "/@corner").await;
    assert!(
        theirs.contains("corner store"),
        "one's stores are on one's own profile"
    );
    let visitor = app.page(&app.browser(), "/@newcomer").await;
    assert!(!visitor.contains("id=\"me-cart\""), "nobody else sees them");
    assert!(!visitor.contains("id=\"first-note\""));
}

/// The kinds of one's notifications, newest first.
async fn notification_kinds(app: &TestApp, token: &str) -> Vec<String> {
    let page = app.get_json_as(token, "/api/v1/notifications").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn buyers_stores_and_creators_hear_of_orders_shipping_refunds_and_commissions() {
    let app = spawn_app().await;
    let merchant = app.merchant("kettle").await;
    let creator = app.member("brewer").await;
    let buyer = app.member("sipper").await;
    let product = app.product(&merchant, "Kettle", &[(30000, 10)]).await;
    let note = app.tagged_note(&merchant, &creator, &product, 10).await;
    let sku = product["skus"][0]["id"].as_str().unwrap();
    let address = app.address(&buyer, "上海").await;
    let buy = |key: &'static str| {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": 1, "note_id": note["id"]}]});
        let (app, buyer) = (&app, &buyer);
        async move {
            let orders: Value = app.checkout(buyer, key, &body).await.json().await.unwrap();
            id(&orders[0])
        }
    };
    let kept = buy("kept").await;
    app.pay(&buyer, &kept).await;
    let path = format!("/api/v1/orders/{kept}");
    let ship = json!({"carrier": "SF", "tracking_number": "SF1"});
    let shipped = app
        .send_as(
            Method::POST,
            &merchant.token,
            &format!("{path}/ship"),
            Some(ship),
        )
        .await;
    assert_eq!(shipped.status(), StatusCode::OK);
    let confirmed = app
        .send_as(Method::POST, &buyer, &format!("{path}/confirm"), None)
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let returned = buy("returned").await;
    app.pay(&buyer, &returned).await;
    let ask = json!({"kind": "refund_only", "reason": "Too big"});
    let path = format!("/api/v1/orders/{returned}/after-sales");
    let request: Value = app
        .send_as(Method::POST, &buyer, &path, Some(ask))
        .await
        .json()
        .await
        .unwrap();
    let reject = format!("/api/v1/after-sales/{}/reject", id(&request));
    let answer = json!({"answer": "Used"});
    let rejected = app
        .send_as(Method::POST, &merchant.token, &reject, Some(answer))
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let request: Value = app
        .send_as(
            Method::POST,
            &buyer,
            &path,
            Some(json!({"kind": "refund_only", "reason": "Too big"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let approve = format!("/api/v1/after-sales/{}/approve", id(&request));
    let approved = app
        .send_as(Method::POST, &merchant.token, &approve, None)
        .await;
    assert_eq!(approved.status(), StatusCode::OK);

    assert_eq!(
        notification_kinds(&app, &buyer).await,
        ["refund_approved", "refund_declined", "order_shipped"],
        "the buyer hears of their orders"
    );
    assert_eq!(
        notification_kinds(&app, &merchant.token).await,
        [
            "after_sale_asked",
            "after_sale_asked",
            "order_paid",
            "order_paid"
        ],
        "the store's staff hear of payments and requests"
    );
    let creator_news = notification_kinds(&app, &creator).await;
    assert_eq!(
        creator_news
            .iter()
            .filter(|k| *k == "commission_earned")
            .count(),
        1,
        "the creator hears of the one completed order: {creator_news:?}"
    );
    let page = app.get_json_as(&buyer, "/api/v1/notifications").await;
    assert_eq!(page["items"][2]["order_id"], json!(kept));

    let (browser, _) = app.signed_in_browser("sipper").await;
    let html = app.page(&browser, "/notifications").await;
    assert!(
        html.contains(&format!(
            "href=\"/orders/{kept}\" class=\"order-link\" data-kind=\"order_shipped\""
        )),
        "{html}"
    );
}
