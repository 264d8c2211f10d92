//! The audit of every order's money, beside the ledger's own (a balanced trial balance does not
//! show an order that kept two payments): what an order keeps is its price exactly when it is
//! paid and not given back, and nothing otherwise; every payment that succeeded has its money in
//! the ledger; every refund that finished took the whole payment back. A payment being refunded
//! (`refunding`) is money on its way back, which the order no longer keeps.

use sqlx::Row;
use store::Db;

/// Each check is a query for the ids that break it.
const CHECKS: [(&str, &str); 4] = [
    (
        "keeps other than its price: order",
        "SELECT o.id FROM orders o LEFT JOIN payments payer ON payer.id = o.paid_with \
         LEFT JOIN payments p ON p.order_id = o.id AND p.status = 'succeeded' \
         GROUP BY o.id, o.status, o.total, payer.status \
         HAVING COALESCE(SUM(p.amount), 0) <> CASE WHEN o.status IN ('paid', 'shipped', 'delivered', 'completed') \
         AND payer.status = 'succeeded' THEN o.total ELSE 0 END",
    ),
    (
        "paid by a payment that is not its own, or by none: order",
        "SELECT o.id FROM orders o LEFT JOIN payments p ON p.id = o.paid_with \
         WHERE o.status NOT IN ('pending_payment', 'cancelled') \
         AND (p.id IS NULL OR p.order_id <> o.id OR p.status IN ('pending', 'failed'))",
    ),
    (
        "succeeded without its money in the ledger: payment",
        "SELECT p.id FROM payments p \
         LEFT JOIN order_transfers t ON t.order_id = p.order_id AND t.step = 'payment:' || CAST(p.id AS TEXT) \
         LEFT JOIN ledger_transfers l ON l.id = t.transfer_id \
         WHERE p.status IN ('succeeded', 'refunding', 'refunded', 'refund_failed') \
         AND (l.id IS NULL OR l.amount <> p.amount)",
    ),
    (
        "refunded without the whole payment taken back: payment",
        "SELECT p.id FROM payments p \
         LEFT JOIN order_transfers t ON t.order_id = p.order_id AND t.step LIKE 'refund:' || CAST(p.id AS TEXT) || ':%' \
         AND t.step <> 'refund:' || CAST(p.id AS TEXT) || ':paid_out' \
         LEFT JOIN ledger_transfers l ON l.id = t.transfer_id \
         WHERE p.status IN ('refunded', 'refund_failed') \
         GROUP BY p.id, p.amount HAVING COALESCE(SUM(l.amount), 0) <> p.amount",
    ),
];

/// Every order and payment that breaks one of the checks, described.
pub async fn violations(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let mut found = Vec::new();
    for (what, sql) in CHECKS {
        for row in store::query(sql).fetch_all(db.pool()).await? {
            let id: i64 = row.try_get(0)?;
            found.push(format!("{what} {id}"));
        }
    }
    Ok(found)
}
