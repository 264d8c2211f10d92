//! Kill -9 at random moments while payments are applied: a worker process applies success
//! notifications for two payments of every order, in a random order and again and again, while
//! its order task cancels the overdue orders among them, and is killed with SIGKILL again and
//! again. Then the providers' last retries arrive and the order task runs once more, and every
//! succeeded payment belongs to a paid order or has been given back, and no order keeps more
//! than its price. The worker is `examples/payment_crash_worker.rs`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::spawn_app_with;

const KILLS: usize = 5;
const ORDERS: usize = 24;

fn worker_path() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    deps.parent()
        .unwrap()
        .join("examples")
        .join("payment_crash_worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_every_succeeded_payment_pays_its_order_or_goes_back() {
    let app = spawn_app_with(|c| {
        c.limits.checkout = app::web::limits::Rate::new(1_000, 1_000);
        c.limits.unpaid_orders = 1_000;
    })
    .await;
    let merchant = app.merchant("crashy").await;
    let buyer = app.member("crash_buyer").await;
    let product = app.product(&merchant, "Thermos", &[(6600, 1_000)]).await;
    let address = app.address(&buyer, "上海").await;
    let body = json!({"address_id": address, "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}]});
    for i in 0..ORDERS {
        let made = app.checkout(&buyer, &format!("order-{i}"), &body).await;
        assert_eq!(made.status(), StatusCode::CREATED);
        let order: Value = made.json().await.unwrap();
        let order = order[0]["id"].as_str().unwrap().to_owned();
        for _ in 0..2 {
            let started = app.start_payment(&buyer, &order, "sandbox").await;
            assert_eq!(started.status(), StatusCode::CREATED);
        }
    }
    // A third of the orders are overdue: the order task races their payments to cancel them.
    store::query("UPDATE orders SET pay_by = 0 WHERE id % 3 = 0")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let config = app.state.config.clone();
    app.state.close().await;

    let url = config.database_url();
    let data = config.storage.data_dir.to_string_lossy().into_owned();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut applied = 0;
    for kill in 0..KILLS {
        let mut worker = tokio::process::Command::new(worker_path())
            .args([&data, &url])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("examples/payment_crash_worker is built: `cargo test -p app` builds examples");
        let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(rng.gen_range(400..1_600));
        while let Ok(Ok(Some(_))) = tokio::time::timeout_at(deadline, lines.next_line()).await {
            applied += 1;
        }
        worker.start_kill().unwrap(); // SIGKILL
        let status = worker.wait().await.unwrap();
        assert!(!status.success(), "kill {kill}: the worker was killed");
    }
    assert!(
        applied > ORDERS,
        "the worker made progress ({applied} applied)"
    );

    // The providers' last retries, and the order task once more.
    let state = app::open(config).await.unwrap();
    let payments: Vec<(i64, i64)> = store::query_as("SELECT id, amount FROM payments")
        .fetch_all(state.db.pool())
        .await
        .unwrap();
    for (id, amount) in payments {
        let notice = app::payments::service::Notice {
            provider: app::payments::types::Provider::Sandbox,
            payment: kernel::Id::from_i64(id),
            succeeded: true,
            amount,
            currency: "CNY",
            provider_ref: "RETRY",
        };
        app::payments::service::apply(&state, &notice)
            .await
            .unwrap();
    }
    app::jobs::move_overdue(&state).await.unwrap();
    let now = kernel::Timestamp::now();
    app::payments::service::finish_unneeded(&state, now)
        .await
        .unwrap();

    let ledger = ledger::audit::violations(&state.db).await.unwrap();
    assert!(ledger.is_empty(), "{ledger:?}");
    let orders = app::payments::audit::violations(&state.db).await.unwrap();
    assert!(orders.is_empty(), "{orders:?}");
    let (paid, cancelled): (i64, i64) = store::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) FROM orders",
    )
    .fetch_one(state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        paid + cancelled,
        ORDERS as i64,
        "every order was paid or cancelled"
    );
    let kept: i64 = store::query_scalar("SELECT COUNT(*) FROM payments WHERE status = 'succeeded'")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        kept, paid,
        "one succeeded payment per paid order, every other given back"
    );
    println!(
        "{applied} notifications applied over {KILLS} kills; {paid} paid, {cancelled} cancelled"
    );
    state.close().await;
}
