//! Hongshu's storage: one connection pool over SQLite or PostgreSQL through sqlx's `Any` driver,
//! the embedded migrations, and the few places where the two backends must be told apart.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx::any::AnyRow as Row;
pub use sqlx::Row as _;
pub use sqlx::{
    query, query_as, query_scalar, Any, AnyPool as Pool, Error as SqlError, Transaction,
};

pub type Tx = Transaction<'static, Any>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Set on every SQLite connection: readers never wait for the writer (WAL), a writer waits for
/// the lock instead of failing at once, foreign keys hold, and commits skip the fsync that WAL
/// makes unnecessary for durability against a process crash.
const SQLITE_PRAGMAS: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
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

/// The database: a pool and which backend it speaks to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Opens a pool. A SQLite file is created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options: AnyConnectOptions = url.parse()?;
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
            .connect_with(options)
            .await?;
        Ok(Db { pool, backend })
    }

    /// Applies every migration not yet applied. Safe to run at every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so two writers queue on `busy_timeout` instead of one failing with "database
    /// is locked" when it upgrades from reading to writing.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Deletes every row of every table but the migrations' own, in one transaction: for
    /// starting again from an empty database (an interrupted demo seed). Foreign keys hold at
    /// the end, when every table is empty.
    pub async fn empty_every_table(&self) -> Result<(), sqlx::Error> {
        let list = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT CAST(tablename AS TEXT) FROM pg_tables \
                 WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'"
            }
        };
        let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(&self.pool).await?;
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

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
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
