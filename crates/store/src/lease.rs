//! Leases: which node of a deployment runs a single-writer engine (the ledger's writer) or a
//! cluster-wide job. On PostgreSQL a lease is a session-level advisory lock held by one
//! connection of its holder; when the holder dies, PostgreSQL ends its session and the lock
//! passes to the next node that asks. On SQLite there is one node and every lease is held.
//!
//! The connection that holds the lease is handed to the holder: work done through it is done
//! only while the lease is held, since losing the connection loses the lock with it (a commit
//! on a lost connection fails instead of writing beside a new holder).

use std::time::Duration;

use sqlx::{AnyConnection, Connection};

use crate::{Backend, Db};

/// How often a node that does not hold a lease asks for it again.
pub const RETRY: Duration = Duration::from_millis(250);
/// How long a holder waits for its connection to answer before giving the lease up.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The right to be the one runner of something, named once per deployment.
#[derive(Debug, Clone)]
pub struct Lease {
    db: Db,
    name: String,
    key: i64,
}

/// A lease this node holds, with the connection that holds it.
#[derive(Debug)]
pub struct Held {
    conn: AnyConnection,
    name: String,
}

impl Lease {
    pub fn new(db: &Db, name: impl Into<String>) -> Lease {
        let name = name.into();
        Lease {
            db: db.clone(),
            key: advisory_key(&name),
            name,
        }
    }

    /// Waits until this node holds the lease, asking every [`RETRY`].
    pub async fn acquire(&self) -> Held {
        let mut conn = None;
        loop {
            match self.try_acquire_on(&mut conn).await {
                Ok(Some(held)) => return held,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(lease = %self.name, error = %e, "cannot ask for the lease");
                    conn = None;
                }
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// The lease if no other node holds it now.
    pub async fn try_acquire(&self) -> Result<Option<Held>, sqlx::Error> {
        self.try_acquire_on(&mut None).await
    }

    /// Asks once on `conn` (opened when `None`, kept for the next try when refused).
    async fn try_acquire_on(
        &self,
        conn: &mut Option<AnyConnection>,
    ) -> Result<Option<Held>, sqlx::Error> {
        let mut asking = match conn.take() {
            Some(open) => open,
            None => self.db.pool().acquire().await?.detach(),
        };
        let granted = match self.db.backend() {
            Backend::Sqlite => true,
            Backend::Postgres => {
                let got: i64 = sqlx::query_scalar(
                    "SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END",
                )
                .bind(self.key)
                .fetch_one(&mut asking)
                .await?;
                got == 1
            }
        };
        if !granted {
            *conn = Some(asking);
            return Ok(None);
        }
        tracing::info!(lease = %self.name, "this node holds the lease");
        Ok(Some(Held {
            conn: asking,
            name: self.name.clone(),
        }))
    }
}

impl Held {
    /// The connection holding the lease: what is written through it is written by the holder.
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Whether the lease is still held: its connection answers (within two seconds).
    pub async fn still_held(&mut self) -> bool {
        let answered = tokio::time::timeout(CHECK_TIMEOUT, self.conn.ping()).await;
        let held = matches!(answered, Ok(Ok(())));
        if !held {
            tracing::warn!(lease = %self.name, "the lease's connection was lost; giving it up");
        }
        held
    }

    /// Gives the lease up (closing its connection ends the session and its lock).
    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// The advisory-lock key of a lease name: FNV-1a, stable across builds and platforms.
fn advisory_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "hongshu:".bytes().chain(name.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(advisory_key("ledger"), advisory_key("ledger"));
        assert_ne!(advisory_key("ledger"), advisory_key("chores"));
        assert_ne!(advisory_key("node:1"), advisory_key("node:2"));
    }
}
