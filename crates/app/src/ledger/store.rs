//! The ledger transfer chosen for each step of an order's money (`order_transfers`). The
//! engine keeps the transfers themselves in its own tables.

use kernel::Id;
use store::{query, query_as, query_scalar, Db};

use super::types::Step;

/// The transfer id of one step of an order's money, chosen once: `fresh` the first time, the
/// stored one ever after.
pub async fn transfer_id(db: &Db, order: Id, step: Step, fresh: Id) -> Result<i64, sqlx::Error> {
    let step = step.to_string();
    query(
        "INSERT INTO order_transfers (order_id, step, transfer_id) VALUES ($1, $2, $3) \
         ON CONFLICT (order_id, step) DO NOTHING",
    )
    .bind(order.as_i64())
    .bind(&step)
    .bind(fresh.as_i64())
    .execute(db.writer())
    .await?;
    query_scalar("SELECT transfer_id FROM order_transfers WHERE order_id = $1 AND step = $2")
        .bind(order.as_i64())
        .bind(&step)
        .fetch_one(db.pool())
        .await
}

/// The steps and transfer ids of several orders: `(order, step, transfer)`. A step that does not
/// read is an error, never passed over.
pub async fn steps_of(db: &Db, orders: &[Id]) -> Result<Vec<(Id, Step, i64)>, sqlx::Error> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let list = orders
        .iter()
        .map(|order| order.as_i64().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<(i64, String, i64)> = query_as(&format!(
        "SELECT order_id, step, transfer_id FROM order_transfers WHERE order_id IN ({list}) \
         ORDER BY order_id, step"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|(order, step, transfer)| {
            let read = Step::parse(&step).ok_or_else(|| {
                sqlx::Error::Decode(
                    format!("order {order} has an unknown money step {step:?}").into(),
                )
            })?;
            Ok((Id::from_i64(order), read, transfer))
        })
        .collect()
}
