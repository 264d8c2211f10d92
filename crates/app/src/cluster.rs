//! Several nodes on one PostgreSQL: each node's claim on its id, the one runner of the
//! cluster's chores, and whether this node is ready to serve. The leases come from
//! [`store::lease`]; on SQLite there is one node and every lease is held.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ledger::Role;
use store::lease::{Held, Lease};
use store::Db;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Ids of nodes: the id generator's node field (10 bits).
const NODE_IDS: u16 = 1024;
/// Commands (a reindex, an admin command) beside running nodes take free ids from here down.
const FIRST_COMMAND_ID: u16 = NODE_IDS - 1;
/// How long a server waits for its node id to come free.
const CLAIM_PATIENCE: Duration = Duration::from_secs(10);
/// How often leases are checked and lost ones asked for again.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Which node id a process takes.
#[derive(Debug, Clone, Copy)]
pub enum NodeIdClaim {
    /// The configured one, or none: a server.
    Exactly(u16),
    /// The highest free one: a command run beside the servers.
    AnyFree,
}

/// This node's standing in the cluster, for readiness and the operators.
pub struct Node {
    pub id: u16,
    claim: tokio::sync::Mutex<Option<Held>>,
    id_held: AtomicBool,
    runs_chores: AtomicBool,
    released: AtomicBool,
}

impl Node {
    /// Claims a node id: no two running processes may make ids with the same one. A server's
    /// own id is asked for during [`CLAIM_PATIENCE`]: after a crash, the database may take a
    /// moment to end the dead process's session.
    pub async fn claim(db: &Db, claim: NodeIdClaim) -> anyhow::Result<Node> {
        let held = match claim {
            NodeIdClaim::Exactly(id) => claim_exactly(db, id).await?.map(|held| (id, held)),
            NodeIdClaim::AnyFree => claim_any_free(db).await?,
        };
        let Some((id, held)) = held else {
            match claim {
                NodeIdClaim::Exactly(id) => anyhow::bail!(
                    "node id {id} is in use by another running node of this database: give \
                     each node its own server.node_id"
                ),
                NodeIdClaim::AnyFree => anyhow::bail!("every node id is in use"),
            }
        };
        Ok(Node {
            id,
            claim: tokio::sync::Mutex::new(Some(held)),
            id_held: AtomicBool::new(true),
            runs_chores: AtomicBool::new(false),
            released: AtomicBool::new(false),
        })
    }

    /// Gives the id up (the process is stopping).
    pub async fn release(&self) {
        self.released.store(true, Ordering::Relaxed);
        if let Some(held) = self.claim.lock().await.take() {
            held.release().await;
        }
        self.id_held.store(false, Ordering::Relaxed);
    }

    pub fn runs_chores(&self) -> bool {
        self.runs_chores.load(Ordering::Relaxed)
    }
}

async fn claim_exactly(db: &Db, id: u16) -> anyhow::Result<Option<Held>> {
    let until = tokio::time::Instant::now() + CLAIM_PATIENCE;
    loop {
        if let Some(held) = node_lease(db, id).try_acquire().await? {
            return Ok(Some(held));
        }
        if tokio::time::Instant::now() >= until {
            return Ok(None);
        }
        tokio::time::sleep(store::lease::RETRY).await;
    }
}

async fn claim_any_free(db: &Db) -> anyhow::Result<Option<(u16, Held)>> {
    for id in (0..=FIRST_COMMAND_ID).rev() {
        if let Some(held) = node_lease(db, id).try_acquire().await? {
            return Ok(Some((id, held)));
        }
    }
    Ok(None)
}

fn node_lease(db: &Db, id: u16) -> Lease {
    Lease::new(db, format!("node:{id}"))
}

/// Keeps this node's id claimed: a lost claim (the database restarted) is asked for again, and
/// the node is not ready until it has it back.
pub async fn keep_node_id(state: AppState) {
    let node = &state.node;
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let mut claim = node.claim.lock().await;
        if node.released.load(Ordering::Relaxed) {
            return;
        }
        let held = match claim.as_mut() {
            Some(held) => held.still_held().await,
            None => false,
        };
        if !held {
            *claim = match node_lease(&state.db, node.id).try_acquire().await {
                Ok(again) => again,
                Err(e) => {
                    tracing::warn!(error = %e, node = node.id, "cannot claim this node's id");
                    None
                }
            };
        }
        node.id_held.store(claim.is_some(), Ordering::Relaxed);
    }
}

/// What readiness depends on, as `/readyz` reports it.
pub struct Readiness {
    pub database: bool,
    pub node_id: bool,
    pub ledger: Role,
    pub chores: bool,
}

impl Readiness {
    /// Ready: the database answers, the node holds its id, and its ledger is not in the middle
    /// of taking over (a follower forwards; the writer writes).
    pub fn ready(&self) -> bool {
        self.database && self.node_id && self.ledger != Role::TakingOver
    }
}

pub async fn readiness(state: &AppState) -> Readiness {
    Readiness {
        database: state.db.ping().await,
        node_id: state.node.id_held.load(Ordering::Relaxed),
        ledger: state.ledger.role(),
        chores: state.node.runs_chores(),
    }
}

/// A chore of the whole cluster: a name for the logs, and its loop (which runs until aborted).
pub type Chore = (
    &'static str,
    std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
);

/// Runs `chores` on this node while it holds the `chores` lease, so that each runs on one node
/// of the cluster at a time; when the lease is lost they stop and the node asks for it again.
pub async fn run_chores(state: AppState, chores: impl Fn(&AppState) -> Vec<Chore>) {
    let lease = Lease::new(&state.db, "chores");
    loop {
        let mut held = lease.acquire().await;
        state.node.runs_chores.store(true, Ordering::Relaxed);
        let running: Vec<JoinHandle<()>> = chores(&state)
            .into_iter()
            .map(|(name, chore)| {
                tracing::debug!(chore = name, "running on this node");
                tokio::spawn(chore)
            })
            .collect();
        while held.still_held().await {
            tokio::time::sleep(CHECK_EVERY).await;
        }
        state.node.runs_chores.store(false, Ordering::Relaxed);
        for chore in running {
            chore.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_serves_unless_its_database_or_id_is_lost_or_its_ledger_is_taking_over() {
        let standing = |database, node_id, ledger| Readiness {
            database,
            node_id,
            ledger,
            chores: false,
        };
        assert!(standing(true, true, Role::Following).ready());
        assert!(standing(true, true, Role::Leading).ready());
        assert!(!standing(true, true, Role::TakingOver).ready());
        assert!(!standing(false, true, Role::Leading).ready());
        assert!(!standing(true, false, Role::Following).ready());
    }
}
