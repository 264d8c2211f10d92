//! Checks of the ledger's invariants against the database, and the trial balance. Finance and
//! tests run the same queries.

use kernel::Currency;
use sqlx::Row;
use store::Db;

use crate::durable::LedgerError;

/// Sums over every account of one currency. Balanced when debits equal credits, posted and
/// pending alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyTotals {
    pub currency: Currency,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

impl CurrencyTotals {
    pub fn is_balanced(&self) -> bool {
        self.debits_posted == self.credits_posted && self.debits_pending == self.credits_pending
    }
}

pub async fn totals_by_currency(db: &Db) -> Result<Vec<CurrencyTotals>, LedgerError> {
    let rows = sqlx::query(
        "SELECT currency, CAST(SUM(debits_posted) AS BIGINT), CAST(SUM(credits_posted) AS BIGINT), \
         CAST(SUM(debits_pending) AS BIGINT), CAST(SUM(credits_pending) AS BIGINT) \
         FROM ledger_accounts GROUP BY currency ORDER BY currency",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let code: String = row.try_get(0)?;
            Ok(CurrencyTotals {
                currency: Currency::parse(&code).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                debits_posted: row.try_get(1)?,
                credits_posted: row.try_get(2)?,
                debits_pending: row.try_get(3)?,
                credits_pending: row.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Recomputes every balance from the transfers: posted and post-pending amounts are posted,
/// pending transfers with no resolution and no expiry are pending.
const BALANCES_FROM_TRANSFERS: &str = "
    SELECT account, CAST(SUM(dp) AS BIGINT) AS dp, CAST(SUM(dpo) AS BIGINT) AS dpo,
           CAST(SUM(cp) AS BIGINT) AS cp, CAST(SUM(cpo) AS BIGINT) AS cpo
    FROM (
        SELECT debit_account_id AS account, 0 AS dp, amount AS dpo, 0 AS cp, 0 AS cpo
            FROM ledger_transfers WHERE flags IN (0, 1, 4, 5)
        UNION ALL SELECT credit_account_id, 0, 0, 0, amount
            FROM ledger_transfers WHERE flags IN (0, 1, 4, 5)
        UNION ALL SELECT debit_account_id, amount, 0, 0, 0 FROM open_pending
        UNION ALL SELECT credit_account_id, 0, 0, amount, 0 FROM open_pending
    ) moves GROUP BY account";

const OPEN_PENDING: &str = "
    WITH open_pending AS (
        SELECT p.debit_account_id, p.credit_account_id, p.amount FROM ledger_transfers p
        WHERE p.flags IN (2, 3)
          AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM ledger_expiries e WHERE e.pending_id = p.id))";

const CROSSES_FLAGS: &str = "SELECT id FROM ledger_accounts \
    WHERE (flags IN (1, 3) AND debits_pending + debits_posted > credits_posted) \
       OR (flags IN (2, 3) AND credits_pending + credits_posted > debits_posted)";

/// The invariants that need only the account rows: every currency balances and no account
/// crosses its flags. Cheap enough to run after every batch.
pub async fn account_violations(db: &Db) -> Result<Vec<String>, LedgerError> {
    let mut found = Vec::new();
    for totals in totals_by_currency(db).await? {
        if !totals.is_balanced() {
            found.push(format!(
                "{} does not balance: {totals:?}",
                totals.currency.code()
            ));
        }
    }
    for row in sqlx::query(CROSSES_FLAGS).fetch_all(db.pool()).await? {
        let id: i64 = row.try_get(0)?;
        found.push(format!("crosses its flags: account {id}"));
    }
    Ok(found)
}

/// Every broken invariant, described; empty when the ledger is sound. Also recomputes every
/// balance from the transfers, so it reads every transfer.
pub async fn violations(db: &Db) -> Result<Vec<String>, LedgerError> {
    let mut found = account_violations(db).await?;
    let sql = format!(
        "{OPEN_PENDING} SELECT a.id FROM ledger_accounts a LEFT JOIN ({BALANCES_FROM_TRANSFERS}) s ON s.account = a.id \
         WHERE a.debits_pending <> COALESCE(s.dp, 0) OR a.debits_posted <> COALESCE(s.dpo, 0) \
            OR a.credits_pending <> COALESCE(s.cp, 0) OR a.credits_posted <> COALESCE(s.cpo, 0)"
    );
    let checks: [(&str, &str); 3] = [
        ("balance differs from its transfers: account", &sql),
        (
            "resolved more than once: pending transfer",
            "SELECT pending_id FROM (SELECT pending_id FROM ledger_transfers WHERE pending_id IS NOT NULL \
             UNION ALL SELECT pending_id FROM ledger_expiries) r GROUP BY pending_id HAVING COUNT(*) > 1",
        ),
        (
            "resolves beyond its pending amount: transfer",
            "SELECT r.id FROM ledger_transfers r JOIN ledger_transfers p ON p.id = r.pending_id \
             WHERE p.flags NOT IN (2, 3) OR r.amount > p.amount OR (r.flags IN (8, 9) AND r.amount <> p.amount)",
        ),
    ];
    for (what, sql) in checks {
        for row in sqlx::query(sql).fetch_all(db.pool()).await? {
            let id: i64 = row.try_get(0)?;
            found.push(format!("{what} {id}"));
        }
    }
    Ok(found)
}
