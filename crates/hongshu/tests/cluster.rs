//! Two nodes of Hongshu — the real binary, two processes — on one PostgreSQL, as an operator
//! runs them behind a load balancer: the last unit sells once whichever node the buyers reach,
//! counts stay exact through alternating nodes, overdue orders are cancelled once, and the
//! ledger loses and doubles nothing while its writer is killed twice. On SQLite (one node) there
//! is nothing to run; `scripts/test` runs this suite again on PostgreSQL.

use std::collections::HashSet;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PASSWORD: &str = "red potato 42";
const SANDBOX_KEY: &str = "the cluster test's sandbox key";

/// One `hongshu serve` process, on a port of its own that it keeps across restarts.
struct Node {
    id: u16,
    port: u16,
    address: String,
    process: Child,
}

struct Cluster {
    url: String,
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
    http: Client,
}

impl Cluster {
    /// Two nodes on a fresh PostgreSQL database; `None` when the suite runs on SQLite.
    async fn start() -> Option<Cluster> {
        if store::testing::expected_backend() != store::Backend::Postgres {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let url = store::testing::fresh_database_url(dir.path()).await;
        let mut cluster = Cluster {
            url,
            dir,
            nodes: Vec::new(),
            http: Client::new(),
        };
        // The first node migrates the database before the second starts.
        for id in [1, 2] {
            let node = cluster.spawn(id, free_port()).await;
            cluster.nodes.push(node);
        }
        Some(cluster)
    }

    /// The configuration every process of the deployment shares, as environment variables.
    fn configure(&self, command: &mut Command, id: u16) {
        let data = self.dir.path().join(format!("node{id}"));
        command
            .env("HONGSHU__STORAGE__DATABASE_URL", &self.url)
            .env("HONGSHU__STORAGE__DATA_DIR", &data)
            .env("HONGSHU__STORAGE__MAX_CONNECTIONS", "16")
            .env("HONGSHU__SERVER__NODE_ID", id.to_string())
            .env("HONGSHU__SERVER__CHORES_EVERY_SECONDS", "1")
            .env("HONGSHU__MALL__SANDBOX_KEY", SANDBOX_KEY)
            .env("HONGSHU__AUTH__LOGIN_ADDRESS_BURST", "1000")
            .env("HONGSHU__LIMITS__SIGNUP__BURST", "1000")
            .env("HONGSHU__LIMITS__CHECKOUT__BURST", "1000")
            .env("RUST_LOG", "warn");
        if let Ok(endpoint) = std::env::var("HONGSHU_TEST_S3_ENDPOINT") {
            command
                .env("HONGSHU__MEDIA__STORE", "s3")
                .env("HONGSHU__MEDIA__S3_ENDPOINT", endpoint)
                .env("HONGSHU__MEDIA__S3_BUCKET", "hongshu-test")
                .env("HONGSHU__MEDIA__S3_ACCESS_KEY_ID", "test")
                .env("HONGSHU__MEDIA__S3_SECRET_ACCESS_KEY", "test");
        }
    }

    /// Starts node `id` on `port` and waits until it is ready.
    async fn spawn(&self, id: u16, port: u16) -> Node {
        let mut command = Command::new(binary());
        let bind = format!("127.0.0.1:{port}");
        command
            .args(["serve", "--bind", &bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        self.configure(&mut command, id);
        let mut process = command.spawn().expect("the hongshu binary starts");
        let stdout = process.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("the node starts within a minute")
                .unwrap()
                .expect("the node prints where it listens");
            if let Some(rest) = line.strip_prefix("Hongshu is running at ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep reading its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let node = Node {
            id,
            port,
            address,
            process,
        };
        self.wait_until(&node, |body| body.starts_with("ready\n"))
            .await;
        node
    }

    /// Waits (up to ten seconds) until the node's `/readyz` body satisfies `done`.
    async fn wait_until(&self, node: &Node, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let body = self.readiness(node).await;
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "node {}: {body}", node.id);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn readiness(&self, node: &Node) -> String {
        match self
            .http
            .get(format!("{}/readyz", node.address))
            .send()
            .await
        {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(e) => format!("unreachable: {e}"),
        }
    }

    /// Kills node `i` as a crash would (SIGKILL).
    async fn kill(&mut self, i: usize) {
        let process = &mut self.nodes[i].process;
        process.start_kill().unwrap();
        process.wait().await.unwrap();
    }

    /// Starts node `i` again, with its id and port.
    async fn restart(&mut self, i: usize) {
        let (id, port) = (self.nodes[i].id, self.nodes[i].port);
        self.nodes[i] = self.spawn(id, port).await;
    }

    /// Which node writes the ledger now.
    async fn writer(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            for (i, node) in self.nodes.iter().enumerate() {
                if self.readiness(node).await.contains("ledger: writes") {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no node writes the ledger");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn node(&self, i: usize) -> &str {
        &self.nodes[i % self.nodes.len()].address
    }

    /// Runs `hongshu admin create` beside the nodes, then signs the administrator in.
    async fn admin(&self, handle: &str) -> String {
        let mut command = Command::new(binary());
        command
            .args(["admin", "create", handle])
            .stdin(Stdio::piped())
            .stdout(Stdio::null());
        self.configure(&mut command, 1);
        let mut process = command.spawn().unwrap();
        let mut stdin = process.stdin.take().unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stdin, format!("{PASSWORD}\n").as_bytes())
            .await
            .unwrap();
        drop(stdin);
        assert!(process.wait().await.unwrap().success(), "admin create");
        self.login(0, handle).await
    }

    async fn send(
        &self,
        node: usize,
        method: Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let request = self
            .http
            .request(method, format!("{}{path}", self.node(node)))
            .bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.unwrap()
    }

    async fn get(&self, node: usize, token: &str, path: &str) -> Value {
        self.send(node, Method::GET, token, path, None)
            .await
            .json()
            .await
            .unwrap()
    }

    /// Signs a new member up on one node and in on the other; returns their bearer token.
    async fn member(&self, node: usize, handle: &str) -> String {
        let body = json!({"handle": handle, "display_name": handle, "password": PASSWORD});
        let signed_up = self
            .http
            .post(format!("{}/api/v1/auth/signup", self.node(node)))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_up.status(), StatusCode::CREATED, "signup {handle}");
        self.login(node + 1, handle).await
    }

    async fn login(&self, node: usize, handle: &str) -> String {
        let body: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.node(node)))
            .json(&json!({"handle": handle, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["token"].as_str().expect("a token").to_owned()
    }

    async fn image(&self, token: &str) -> String {
        let form = Form::new().part("file", Part::bytes(png()).file_name("photo.png"));
        let response = self
            .http
            .post(format!("{}/api/v1/media", self.node(0)))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        id(&response.json().await.unwrap())
    }

    /// A merchant's store with one product of `stock` units; returns (product, sku).
    async fn product(&self, handle: &str, stock: i64) -> (String, String) {
        let token = self.member(0, handle).await;
        let org = json!({"slug": format!("{handle}_co"), "name": format!("{handle} Co")});
        let made = self
            .send(0, Method::POST, &token, "/api/v1/orgs", Some(org))
            .await;
        assert_eq!(made.status(), StatusCode::CREATED);
        let draft = json!({"name": format!("{handle} store"), "description": "Good things",
            "shipping": {"fee": 0}});
        let path = format!("/api/v1/orgs/{handle}_co/store");
        let opened = self.send(0, Method::POST, &token, &path, Some(draft)).await;
        assert_eq!(opened.status(), StatusCode::CREATED);
        let store = id(&opened.json().await.unwrap());
        let product = json!({"title": "Last pair", "category": "fashion", "state": "on_sale",
            "media_ids": [self.image(&token).await],
            "skus": [{"code": "ONE", "name": "One size", "price": 59900, "stock": stock}]});
        let path = format!("/api/v1/stores/{store}/products");
        let made = self
            .send(0, Method::POST, &token, &path, Some(product))
            .await;
        assert_eq!(made.status(), StatusCode::CREATED);
        let product: Value = made.json().await.unwrap();
        (
            id(&product),
            product["skus"][0]["id"].as_str().unwrap().to_owned(),
        )
    }

    async fn address(&self, node: usize, token: &str) -> String {
        let body = json!({"name": "Li Na", "phone": "13800138000", "region": "上海",
            "detail": "1 Nanjing Road, Shanghai"});
        let saved = self
            .send(
                node,
                Method::POST,
                token,
                "/api/v1/me/addresses",
                Some(body),
            )
            .await;
        assert_eq!(saved.status(), StatusCode::CREATED);
        id(&saved.json().await.unwrap())
    }

    async fn checkout(
        &self,
        node: usize,
        token: &str,
        address: &str,
        sku: &str,
        quantity: i64,
    ) -> reqwest::Response {
        let body = json!({"address_id": address, "items": [{"sku_id": sku, "quantity": quantity}]});
        self.http
            .post(format!("{}/api/v1/checkout", self.node(node)))
            .bearer_auth(token)
            .header("Idempotency-Key", "cluster")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn stock(&self, node: usize, product: &str) -> i64 {
        let product = self
            .get(node, "", &format!("/api/v1/products/{product}"))
            .await;
        product["skus"][0]["stock"].as_i64().unwrap()
    }

    async fn db(&self) -> store::Db {
        store::Db::connect(&self.url, 2).await.unwrap()
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hongshu"))
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 80, |x, y| image::Rgb([x as u8, y as u8, 120]));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Polls `read` on both nodes until it gives `expected` on each, for up to ten seconds.
async fn until_both(expected: i64, read: impl AsyncFn(usize) -> i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = [read(0).await, read(1).await];
        if seen == [expected, expected] {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {expected} on both nodes, saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgresql_sell_count_cancel_and_keep_the_ledger_exact() {
    let Some(mut cluster) = Cluster::start().await else {
        return;
    };
    the_last_unit_sells_once_across_both_nodes(&cluster).await;
    likes_and_follows_through_alternating_nodes_count_exactly(&cluster).await;
    an_overdue_order_is_cancelled_once(&cluster).await;
    the_ledger_keeps_every_acknowledged_transfer_while_its_writer_is_killed(&mut cluster).await;
}

async fn the_last_unit_sells_once_across_both_nodes(cluster: &Cluster) {
    let (product, sku) = cluster.product("drop", 1).await;
    let mut buyers = Vec::new();
    for i in 0..64 {
        let token = cluster.member(i, &format!("buyer{i}")).await;
        let address = cluster.address(i, &token).await;
        buyers.push((token, address));
    }
    let attempts = buyers.iter().enumerate().map(|(i, (token, address))| {
        let sku = &sku;
        async move { cluster.checkout(i, token, address, sku, 1).await.status() }
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
    assert_eq!(cluster.stock(0, &product).await, 0);
    assert_eq!(cluster.stock(1, &product).await, 0);
}

async fn likes_and_follows_through_alternating_nodes_count_exactly(cluster: &Cluster) {
    let author = cluster.member(0, "author").await;
    let note = json!({"title": "Two nodes", "body": "One community", "media_ids": [cluster.image(&author).await]});
    let posted = cluster
        .send(0, Method::POST, &author, "/api/v1/notes", Some(note))
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let note = id(&posted.json().await.unwrap());
    let mut fans = Vec::new();
    for i in 0..20 {
        fans.push(cluster.member(i, &format!("fan{i}")).await);
    }
    let marks = fans.iter().enumerate().map(|(i, fan)| {
        let like = format!("/api/v1/notes/{note}/like");
        async move {
            let liked = cluster
                .send(i, Method::PUT, fan, &like, None)
                .await
                .status();
            let followed = cluster
                .send(i + 1, Method::PUT, fan, "/api/v1/users/author/follow", None)
                .await
                .status();
            // A double click on the other node changes nothing.
            let again = cluster
                .send(i + 1, Method::PUT, fan, &like, None)
                .await
                .status();
            (
                liked.is_success(),
                followed.is_success(),
                again.is_success(),
            )
        }
    });
    for done in futures_util::future::join_all(marks).await {
        assert_eq!(done, (true, true, true));
    }
    let note_path = format!("/api/v1/notes/{note}");
    until_both(20, async |node| {
        cluster.get(node, "", &note_path).await["like_count"]
            .as_i64()
            .unwrap_or(-1)
    })
    .await;
    until_both(20, async |node| {
        cluster.get(node, "", "/api/v1/users/author/stats").await["followers"]
            .as_i64()
            .unwrap_or(-1)
    })
    .await;
}

async fn an_overdue_order_is_cancelled_once(cluster: &Cluster) {
    let (product, sku) = cluster.product("scarf", 2).await;
    let buyer = cluster.member(1, "forgetful").await;
    let address = cluster.address(1, &buyer).await;
    let placed = cluster.checkout(1, &buyer, &address, &sku, 2).await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = id(&placed.json::<Value>().await.unwrap()[0]);
    assert_eq!(cluster.stock(0, &product).await, 0);
    // Fifteen minutes pass; both nodes are up and either could run the chore.
    let db = cluster.db().await;
    store::query("UPDATE orders SET pay_by = pay_by - 900001 WHERE id = $1")
        .bind(order.parse::<i64>().unwrap())
        .execute(db.pool())
        .await
        .unwrap();
    let path = format!("/api/v1/orders/{order}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while cluster.get(0, &buyer, &path).await["status"] != "cancelled" {
        assert!(
            Instant::now() < deadline,
            "the overdue order was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several more rounds of the chore pass.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = cluster.get(1, &buyer, &path).await;
    let cancellations = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["status"] == "cancelled")
        .count();
    assert_eq!(cancellations, 1, "{seen}");
    assert_eq!(
        cluster.stock(1, &product).await,
        2,
        "the units came back once"
    );
    db.close().await;
}

/// Ledger accounts for the load: provider cash (an asset, no limit) pays into clearing.
async fn ledger_accounts(cluster: &Cluster, admin: &str) -> (String, String) {
    let mut ids = Vec::new();
    for (kind, owner) in [
        ("provider_cash", "provider:sandbox"),
        ("buyer_payments", "platform"),
    ] {
        let body = json!({"kind": kind, "owner": owner, "currency": "CNY"});
        let opened = cluster
            .send(
                1,
                Method::POST,
                admin,
                "/api/v1/admin/ledger/accounts",
                Some(body),
            )
            .await;
        assert_eq!(opened.status(), StatusCode::CREATED);
        ids.push(id(&opened.json().await.unwrap()));
    }
    (ids[0].clone(), ids[1].clone())
}

/// Sends one transfer; its status once a node answered it, `None` when none did.
async fn submit(http: &Client, address: &str, admin: &str, transfer: &Value) -> Option<String> {
    let response = http
        .post(format!("{address}/api/v1/admin/ledger/transfers"))
        .bearer_auth(admin)
        .json(&json!({"transfers": [transfer]}))
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let results: Value = response.json().await.ok()?;
    results["results"][0]["status"].as_str().map(str::to_owned)
}

/// One client of the load: transfers of 1 to 9 fen under its own ids, each sent to the nodes in
/// turn until one acknowledges it (a node being killed answers nothing); returns the ids and
/// amounts acknowledged.
async fn client(
    number: i64,
    addresses: Vec<String>,
    admin: String,
    accounts: (String, String),
    stop: Arc<AtomicBool>,
) -> Vec<(i64, i64)> {
    let http = Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut id = number * 1_000_000;
    while !stop.load(Ordering::Relaxed) {
        id += 1;
        let amount = 1 + id % 9;
        let transfer = json!({"id": id.to_string(), "debit_account_id": accounts.0,
            "credit_account_id": accounts.1, "amount": amount, "currency": "CNY",
            "reason": "order_payment"});
        let deadline = Instant::now() + Duration::from_secs(60);
        for attempt in 0.. {
            let address = &addresses[(id as usize + attempt) % addresses.len()];
            match submit(&http, address, &admin, &transfer).await.as_deref() {
                Some("created" | "already_exists") => {
                    acknowledged.push((id, amount));
                    break;
                }
                Some(refused) => panic!("transfer {id} was refused: {refused}"),
                None => {
                    assert!(
                        Instant::now() < deadline,
                        "transfer {id} was never acknowledged"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
    acknowledged
}

async fn the_ledger_keeps_every_acknowledged_transfer_while_its_writer_is_killed(
    cluster: &mut Cluster,
) {
    let admin = cluster.admin("treasurer").await;
    let accounts = ledger_accounts(cluster, &admin).await;
    let stop = Arc::new(AtomicBool::new(false));
    let addresses: Vec<String> = cluster.nodes.iter().map(|n| n.address.clone()).collect();
    let clients: Vec<_> = (1..=8)
        .map(|number| {
            tokio::spawn(client(
                number,
                addresses.clone(),
                admin.clone(),
                accounts.clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..2 {
        let writer = cluster.writer().await;
        let killed = Instant::now();
        cluster.kill(writer).await;
        let survivor = &cluster.nodes[1 - writer];
        cluster
            .wait_until(survivor, |body| body.contains("ledger: writes"))
            .await;
        eprintln!(
            "node {} took the ledger over {} ms after node {} was killed",
            survivor.id,
            killed.elapsed().as_millis(),
            cluster.nodes[writer].id
        );
        cluster.restart(writer).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    assert!(
        acknowledged.len() > 100,
        "the load ran: {}",
        acknowledged.len()
    );

    let db = cluster.db().await;
    let stored: Vec<(i64, i64)> =
        store::query_as("SELECT id, amount FROM ledger_transfers WHERE credit_account_id = $1")
            .bind(accounts.1.parse::<i64>().unwrap())
            .fetch_all(db.pool())
            .await
            .unwrap();
    let stored_ids: HashSet<i64> = stored.iter().map(|(id, _)| *id).collect();
    let acknowledged_ids: HashSet<i64> = acknowledged.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        acknowledged_ids.len(),
        acknowledged.len(),
        "each acknowledged once"
    );
    assert_eq!(
        stored_ids, acknowledged_ids,
        "every acknowledged transfer is in the ledger, and nothing else"
    );
    let violations = ledger::audit::violations(&db).await.unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    let balance: i64 =
        store::query_scalar("SELECT credits_posted FROM ledger_accounts WHERE id = $1")
            .bind(accounts.1.parse::<i64>().unwrap())
            .fetch_one(db.pool())
            .await
            .unwrap();
    let total: i64 = acknowledged.iter().map(|(_, amount)| amount).sum();
    assert_eq!(balance, total, "each transfer moved its amount once");
    db.close().await;
}
