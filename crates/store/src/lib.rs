//! Hongshu's storage: one connection pool over SQLite or PostgreSQL through sqlx's `Any` driver,
//! the embedded migrations, and the few places where the two backends must be told apart.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub mod lease;
pub mod portable;

pub use sqlx::any::AnyRow as Row;
pub use sqlx::Row as _;
pub use sqlx::{
    query, query_as, query_scalar, Any, AnyPool as Pool, Error as SqlError, Transaction,
};

pub type Tx = Transaction<'static, Any>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Set on every SQLite connection: readers never wait for the writer (WAL), a writer waits for
/// the lock instead of failing at once, foreign keys hold, and commits skip the fsync that WAL
/// makes unnecessary for durability against a process crash. No commit copies the WAL back
/// into the database itself: that is [`keep_checkpointing`]'s work.
const SQLITE_PRAGMAS: [&str; 5] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA wal_autocheckpoint = 0",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

async fn open_pool(
    backend: Backend,
    options: &AnyConnectOptions,
    max_connections: u32,
) -> Result<AnyPool, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for pragma in SQLITE_PRAGMAS {
                        conn.execute(pragma).await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await?;
    Ok(pool)
}

/// How often SQLite's write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// A write-ahead log longer than this (in pages) is brought to its end while writes wait, so
/// that the next write starts it again from the beginning.
const WAL_RESTART_PAGES: i64 = 4_000;

/// Copies SQLite's write-ahead log back into the database in the background, until the pool
/// closes. SQLite would otherwise do it inside the commit that crossed 1,000 pages, and the
/// one writer connection would wait for its fsyncs: every writer behind it stalled.
/// - A passive checkpoint on a reading connection takes no lock a reader or the writer waits
///   for, and copies all but what was written meanwhile.
/// - With writes never pausing, the log would then never start again from the beginning and
///   grow without end; once it is long, one more passive checkpoint on the writer connection
///   (writes queue for it) copies the little that is left, and the next write restarts it.
async fn keep_checkpointing(pool: AnyPool, writer: AnyPool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() || writer.is_closed() {
            return;
        }
        let done = match checkpoint(&pool).await {
            Ok(log_pages) if log_pages > WAL_RESTART_PAGES => checkpoint(&writer).await.map(drop),
            other => other.map(drop),
        };
        if let Err(e) = done {
            if !pool.is_closed() && !writer.is_closed() {
                tracing::warn!(error = %e, "could not checkpoint the write-ahead log");
            }
        }
    }
}

/// A passive checkpoint; returns the log's length in pages.
async fn checkpoint(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let (_busy, log_pages, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool)
            .await?;
    Ok(log_pages)
}

/// The database: a pool and which backend it speaks to. Cheap to clone.
///
/// On SQLite, writes go through a pool of their own with one connection: SQLite has one write
/// lock, and writers that wait for it on `busy_timeout` poll with growing sleeps and are served
/// in no order, so near the lock's capacity some waited hundreds of milliseconds while others
/// went straight through. Waiting for the one writer connection instead is first come, first
/// served. On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
    url: Arc<str>,
    _checkpointer: Option<Arc<Checkpointer>>,
}

/// The URL is left out: it may hold a password.
impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Stops the checkpointer when the last handle on the database is dropped.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Db {
    /// Opens a pool. A SQLite file is created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options: AnyConnectOptions = url.parse()?;
        let pool = open_pool(backend, &options, max_connections).await?;
        let (writer, checkpointer) = match backend {
            Backend::Sqlite => {
                let writer = open_pool(backend, &options, 1).await?;
                let task = tokio::spawn(keep_checkpointing(pool.clone(), writer.clone()));
                (writer, Some(Arc::new(Checkpointer(task))))
            }
            Backend::Postgres => (pool.clone(), None),
        };
        Ok(Db {
            pool,
            writer,
            backend,
            url: url.into(),
            _checkpointer: checkpointer,
        })
    }

    /// Applies every migration not yet applied. Safe to run at every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// For reading (on PostgreSQL it is also the writer).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// For a write outside a transaction (one statement that commits by itself).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it is the writer connection's, and takes the
    /// write lock at once (`BEGIN IMMEDIATE`): a transaction that began by reading could not
    /// upgrade while another process (a command, the ledger's own connection) writes.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Deletes every row of every table but the migrations' own, in one transaction: for
    /// starting again from an empty database (an interrupted demo seed). Foreign keys hold at
    /// the end, when every table is empty.
    pub async fn empty_every_table(&self) -> Result<(), sqlx::Error> {
        let tables: Vec<String> = sqlx::query_scalar(table_names(self.backend))
            .fetch_all(&self.pool)
            .await?;
        let mut tx = self.begin_write().await?;
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut *tx)
                    .await?;
                for table in &tables {
                    sqlx::query(&format!("DELETE FROM \"{table}\""))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Backend::Postgres if !tables.is_empty() => {
                let all: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
                sqlx::query(&format!("TRUNCATE TABLE {}", all.join(", ")))
                    .execute(&mut *tx)
                    .await?;
            }
            Backend::Postgres => {}
        }
        tx.commit().await
    }

    /// On PostgreSQL: a connection of its own that hears `NOTIFY` on `channels`.
    pub async fn listen(
        &self,
        channels: &[&str],
    ) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(listener)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// The query for the names of Hongshu's tables: every table but the database's own and the
/// migrations' record.
fn table_names(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT CAST(tablename AS TEXT) FROM pg_tables \
             WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'"
        }
    }
}

/// Binds `values` in order: the values of an `IN (…)` list that [`values_placeholders`] wrote.
pub fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    values: impl IntoIterator<Item = i64>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for value in values {
        query = query.bind(value);
    }
    query
}

/// `(…), (…)` placeholders for a multi-row `VALUES` of `rows` rows of `columns` values. SQLite
/// gets anonymous `?`: looking up a numbered `$N` by name is linear in SQLite, which makes
/// binding a statement with many parameters quadratic. PostgreSQL needs `$N`.
pub fn values_placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        out.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            match backend {
                Backend::Sqlite => out.push('?'),
                Backend::Postgres => {
                    out.push('$');
                    out.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// The URL of a SQLite database file, created on first use.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// True when the statement failed on a UNIQUE or PRIMARY KEY constraint: the row already exists.
/// A state kept in a text column: one spelling per value. An unknown spelling (written by a
/// newer version, or a damaged row) is an error, never read as some other state.
pub trait TextState: Copy + 'static {
    /// What the state is, for the error ("order status").
    const WHAT: &'static str;
    const ALL: &'static [Self];

    fn spelling(self) -> &'static str;

    fn from_db(text: &str) -> Result<Self, sqlx::Error> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.spelling() == text)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown {} {text:?}", Self::WHAT).into()))
    }
}

pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

/// True when a 0/1 flag column is set (the `Any` driver has no portable boolean).
pub fn flag(value: i64) -> bool {
    value != 0
}

/// For test suites: where to put a fresh database.
#[cfg(feature = "testing")]
pub mod testing {
    use std::sync::atomic::{AtomicU64, Ordering};

    use sqlx::Connection;

    /// The variable that names a PostgreSQL server for tests (a role that may create databases).
    pub const POSTGRES_ENV: &str = "HONGSHU_TEST_DATABASE_URL";

    /// A new, empty database: a SQLite file in `dir`, or a new database on the PostgreSQL server
    /// named by `HONGSHU_TEST_DATABASE_URL` when it is set.
    pub async fn fresh_database_url(dir: &std::path::Path) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let unique = format!(
            "{}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let Ok(server) = std::env::var(POSTGRES_ENV) else {
            return super::sqlite_url(&dir.join(format!("test_{unique}.db")));
        };
        sqlx::any::install_default_drivers();
        let name = format!("hongshu_test_{unique}");
        let mut admin = sqlx::AnyConnection::connect(&server)
            .await
            .expect("the PostgreSQL server for tests is reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a test database can be created");
        admin.close().await.ok();
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        format!("{base}/{name}")
    }

    /// The backend the suite was asked to run on.
    pub fn expected_backend() -> super::Backend {
        match std::env::var(POSTGRES_ENV) {
            Ok(_) => super::Backend::Postgres,
            Err(_) => super::Backend::Sqlite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_get_the_pragmas_and_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&sqlite_url(&dir.path().join("t.db")), 2)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap(); // a second run is a no-op
        let mode: String = query_scalar("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = query_scalar("PRAGMA foreign_keys")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        assert!(db.ping().await);
    }

    #[test]
    fn placeholders_suit_each_backend() {
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_accepted() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }
}
