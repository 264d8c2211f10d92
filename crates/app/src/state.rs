//! What every request handler can reach: the database, configuration, ids and shared limits.

use std::ops::Deref;
use std::sync::Arc;

use kernel::IdGenerator;
use ledger::DurableLedger;
use store::Db;

use crate::accounts::service::LoginLimits;
use crate::changes::service::Changes;
use crate::cluster::Node;
use crate::config::Config;
use crate::feed::service::Feed;
use crate::media::service::{DecodeBudget, Objects};
use crate::notes::cache::NoteCache;
use crate::payments::service::Payments;
use crate::search::service::Search;
use crate::web::limits::Limits;
use crate::web::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    /// This node's id and standing among the nodes of the database.
    pub node: Node,
    pub changes: Changes,
    pub ledger: DurableLedger,
    pub media: Objects,
    pub decoding: DecodeBudget,
    pub search: Search,
    pub feed: Feed,
    pub note_cache: NoteCache,
    pub payments: Payments,
    pub config: Config,
    pub ids: IdGenerator,
    pub login_limits: LoginLimits,
    pub limits: Limits,
    pub metrics: Metrics,
}

impl AppState {
    /// Lets the ledger finish its queued work, gives the node's id up, then closes the database.
    pub async fn close(&self) {
        self.ledger.stop().await;
        self.node.release().await;
        self.db.close().await;
    }

    pub fn new(
        db: Db,
        node: Node,
        ledger: DurableLedger,
        media: Objects,
        search: Search,
        payments: Payments,
        config: Config,
    ) -> Self {
        AppState(Arc::new(Shared {
            search,
            feed: Feed::new(config.feed.clone()),
            note_cache: NoteCache::new(config.storage.note_cache),
            payments,
            ledger,
            media,
            decoding: DecodeBudget::new(config.media.decode_memory_bytes),
            ids: IdGenerator::new(node.id),
            login_limits: LoginLimits::new(&config.auth),
            limits: Limits::new(&config.limits),
            metrics: Metrics::new(),
            changes: Changes::new(node.id, db.backend()),
            node,
            db,
            config,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
