//! The SQL of payments.

use kernel::{Id, Timestamp};
use store::{query, query_as, Db, TextState, Tx};

use super::types::{Payment, PaymentStatus, Provider};

pub async fn insert_payment(db: &Db, payment: &Payment) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO payments (id, order_id, provider, amount, currency, status, provider_ref, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, '', $7, $7)",
    )
    .bind(payment.id.as_i64())
    .bind(payment.order_id.as_i64())
    .bind(payment.provider.as_str())
    .bind(payment.amount)
    .bind(&payment.currency)
    .bind(payment.status.as_str())
    .bind(payment.created_at.as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

type PaymentRow = (i64, i64, String, i64, String, String, String, i64);

const PAYMENT_SELECT: &str =
    "SELECT id, order_id, provider, amount, currency, status, provider_ref, created_at FROM payments";

pub async fn payment(db: &Db, id: Id) -> Result<Option<Payment>, sqlx::Error> {
    let row: Option<PaymentRow> = query_as(&format!("{PAYMENT_SELECT} WHERE id = $1"))
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    row.map(to_payment).transpose()
}

/// An order's payments still waiting for the provider's word.
pub async fn pending_of(db: &Db, order: Id) -> Result<Vec<Payment>, sqlx::Error> {
    let sql = format!("{PAYMENT_SELECT} WHERE order_id = $1 AND status = 'pending' ORDER BY id");
    let rows: Vec<PaymentRow> = query_as(&sql)
        .bind(order.as_i64())
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(to_payment).collect()
}

/// A provider's payments whose refund it has been processing since before `before`.
pub async fn refunding(
    db: &Db,
    provider: Provider,
    before: Timestamp,
    limit: u32,
) -> Result<Vec<Payment>, sqlx::Error> {
    let sql = format!(
        "{PAYMENT_SELECT} WHERE provider = $1 AND status = 'refunding' AND updated_at < $2 \
         ORDER BY updated_at LIMIT $3"
    );
    let rows: Vec<PaymentRow> = query_as(&sql)
        .bind(provider.as_str())
        .bind(before.as_millis())
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(to_payment).collect()
}

/// Payments whose refund a provider could not pay out, oldest first.
pub async fn refunds_failed(db: &Db, limit: u32) -> Result<Vec<Payment>, sqlx::Error> {
    let sql =
        format!("{PAYMENT_SELECT} WHERE status = 'refund_failed' ORDER BY updated_at LIMIT $1");
    let rows: Vec<PaymentRow> = query_as(&sql)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(to_payment).collect()
}

fn to_payment(r: PaymentRow) -> Result<Payment, sqlx::Error> {
    let provider = Provider::from_db(&r.2)?;
    Ok(Payment {
        id: Id::from_i64(r.0),
        order_id: Id::from_i64(r.1),
        pay_url: super::service::pay_url(provider, Id::from_i64(r.0)),
        provider,
        amount: r.3,
        currency: r.4,
        status: PaymentStatus::from_db(&r.5)?,
        provider_ref: r.6,
        created_at: Timestamp::from_millis(r.7),
    })
}

/// Settles a payment with the provider's word: a failure only while it is pending; a success
/// also over an earlier failure (the money moved). False when it was settled so before.
pub async fn settle(
    tx: &mut Tx,
    id: Id,
    succeeded: bool,
    provider_ref: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let (to, from) = match succeeded {
        true => (PaymentStatus::Succeeded, "('pending', 'failed')"),
        false => (PaymentStatus::Failed, "('pending')"),
    };
    let sql = format!(
        "UPDATE payments SET status = $1, provider_ref = $2, updated_at = $3 \
         WHERE id = $4 AND status IN {from}"
    );
    let done = query(&sql)
        .bind(to.as_str())
        .bind(provider_ref)
        .bind(now.as_millis())
        .bind(id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The payment that paid an order, whatever became of it since.
pub async fn payer_of(db: &Db, order: Id) -> Result<Option<Id>, sqlx::Error> {
    let id: Option<Option<i64>> = store::query_scalar("SELECT paid_with FROM orders WHERE id = $1")
        .bind(order.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(id.flatten().map(Id::from_i64))
}

/// The payment that paid an order and has not been given back in full.
pub async fn paid_with(db: &Db, order: Id) -> Result<Option<Id>, sqlx::Error> {
    let id: Option<i64> = store::query_scalar(
        "SELECT p.id FROM orders o JOIN payments p ON p.id = o.paid_with \
         WHERE o.id = $1 AND p.status IN ('succeeded', 'refunding')",
    )
    .bind(order.as_i64())
    .fetch_optional(db.pool())
    .await?;
    Ok(id.map(Id::from_i64))
}

/// Succeeded payments settled before `before` that did not pay their order: to be given back.
pub async fn unneeded(db: &Db, before: Timestamp, limit: u32) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<i64> = store::query_scalar(
        "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id \
         WHERE p.status = 'succeeded' AND (o.paid_with IS NULL OR o.paid_with <> p.id) \
         AND p.updated_at < $1 ORDER BY p.id LIMIT $2",
    )
    .bind(before.as_millis())
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    Ok(ids.into_iter().map(Id::from_i64).collect())
}

/// Moves a payment from one of `from` to `to`; false when it was in none of them (moved so
/// before, or meanwhile).
pub async fn mark(
    tx: &mut Tx,
    id: Id,
    from: &[PaymentStatus],
    to: PaymentStatus,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let sql = format!(
        "UPDATE payments SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ({})",
        from.join(", ")
    );
    let done = query(&sql)
        .bind(to.as_str())
        .bind(now.as_millis())
        .bind(id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The sandbox keeps a notification for delivery; the first one kept for a payment stands.
pub async fn keep_sandbox_notice(
    db: &Db,
    payment: Id,
    body: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO sandbox_notifications (payment_id, body, attempts, next_at) \
         VALUES ($1, $2, 0, $3) ON CONFLICT (payment_id) DO NOTHING",
    )
    .bind(payment.as_i64())
    .bind(body)
    .bind(now.as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// A sandbox notification waiting for delivery.
pub struct DueNotice {
    pub payment: Id,
    pub body: String,
    pub attempts: i64,
}

/// The sandbox's notifications not yet delivered whose time has come, oldest first.
pub async fn due_sandbox_notices(
    db: &Db,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<DueNotice>, sqlx::Error> {
    let rows: Vec<(i64, String, i64)> = query_as(
        "SELECT payment_id, body, attempts FROM sandbox_notifications \
         WHERE delivered_at IS NULL AND next_at <= $1 ORDER BY next_at LIMIT $2",
    )
    .bind(now.as_millis())
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(payment, body, attempts)| DueNotice {
            payment: Id::from_i64(payment),
            body,
            attempts,
        })
        .collect())
}

pub async fn sandbox_notice_delivered(
    db: &Db,
    payment: Id,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    query("UPDATE sandbox_notifications SET delivered_at = $1 WHERE payment_id = $2")
        .bind(now.as_millis())
        .bind(payment.as_i64())
        .execute(db.writer())
        .await?;
    Ok(())
}

pub async fn sandbox_notice_retry(
    db: &Db,
    payment: Id,
    attempts: i64,
    next: Timestamp,
) -> Result<(), sqlx::Error> {
    query("UPDATE sandbox_notifications SET attempts = $1, next_at = $2 WHERE payment_id = $3")
        .bind(attempts)
        .bind(next.as_millis())
        .bind(payment.as_i64())
        .execute(db.writer())
        .await?;
    Ok(())
}
