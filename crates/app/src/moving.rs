//! Moving house. `hongshu export` writes an install — every table and every media object — into
//! one portable archive, read in one snapshot of a live database; `hongshu import` loads it
//! into an empty database (SQLite or PostgreSQL) and media store (local or S3), then checks what
//! it loaded: row counts, the ledger's and the orders' money audits, and each object's digest.
//! `hongshu backup` copies a live SQLite database.
//!
//! The archive is a ZIP: `manifest.json` ([`Manifest`]), `tables/<table>.jsonl` (one JSON array
//! of values a row, in the manifest's column order) and `media/<key>` (the objects as stored).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::{bail, ensure, Context};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use store::portable::{self, Table};
use store::{Backend, Db};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::media::service::Objects;

/// The archive's layout; an importer refuses any other.
const FORMAT: u32 = 1;

/// Tables whose rows stay behind: the change log and its positions are derived (the next
/// server rebuilds search, the feed and the caches from the tables), and on PostgreSQL they
/// hold the old database's transaction ids; forwarded ledger requests live for moments.
const LEFT_BEHIND: [&str; 4] = [
    "changes",
    "change_positions",
    "changes_pruned",
    "ledger_requests",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// The newest migration of the exporting database: the importer's must be the same.
    pub migration: i64,
    /// Unix milliseconds.
    pub exported_at: i64,
    /// In the order they load.
    pub tables: Vec<TableEntry>,
    pub media: Vec<MediaEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MediaEntry {
    pub key: String,
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

impl Manifest {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Rows and objects: what the progress counts.
    fn units(&self) -> u64 {
        self.rows() + self.media.len() as u64
    }
}

/// Called with (done, total) as rows and objects are carried.
pub type Progress<'a> = &'a dyn Fn(u64, u64);

/// Writes the install into a new archive at `file`.
pub async fn export(
    db: &Db,
    objects: &Objects,
    file: &Path,
    progress: Progress<'_>,
) -> anyhow::Result<Manifest> {
    let out = std::fs::File::create_new(file)
        .with_context(|| format!("cannot create {} (it must not exist yet)", file.display()))?;
    let mut zip = ZipWriter::new(out);
    let mut conn = db.pool().acquire().await?;
    // One snapshot for every table, however long the export takes.
    let mut tx = match db.backend() {
        Backend::Sqlite => conn.begin().await?,
        Backend::Postgres => {
            conn.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?
        }
    };
    let migration = portable::applied_migration(&mut tx).await?;
    ensure!(
        migration == portable::newest_migration(),
        "the database is at migration {migration} and this build at {}: run `hongshu migrate` first",
        portable::newest_migration()
    );
    let tables = carried_tables(&mut tx, db.backend()).await?;
    let mut counts = Vec::with_capacity(tables.len());
    for table in &tables {
        counts.push(portable::count(&mut tx, table).await? as u64);
    }
    let keys = media_keys(&mut tx).await?;
    let total = counts.iter().sum::<u64>() + keys.len() as u64;
    let mut done = 0;
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let mut entries = Vec::with_capacity(tables.len());
    for table in &tables {
        zip.start_file(format!("tables/{}.jsonl", table.name), deflated)?;
        let mut rows = 0;
        portable::each_row(&mut tx, table, |values| {
            serde_json::to_writer(&mut zip, &values)
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            zip.write_all(b"\n").map_err(sqlx::Error::Io)?;
            rows += 1;
            done += 1;
            if done % 1_000 == 0 {
                progress(done, total);
            }
            Ok(())
        })
        .await?;
        entries.push(TableEntry {
            name: table.name.clone(),
            columns: table.column_names(),
            rows,
        });
    }
    tx.commit().await?;
    drop(conn);
    // Objects are written once and never changed, so reading them after the snapshot is safe.
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    let mut media = Vec::with_capacity(keys.len());
    for key in keys {
        let bytes = read_object(objects, &key).await?;
        zip.start_file(format!("media/{key}"), stored)?;
        zip.write_all(&bytes)?;
        media.push(MediaEntry {
            sha256: sha256_hex(&bytes),
            bytes: bytes.len() as u64,
            key,
        });
        done += 1;
        progress(done, total);
    }
    let manifest = Manifest {
        format: FORMAT,
        migration,
        exported_at: kernel::Timestamp::now().as_millis(),
        tables: entries,
        media,
    };
    zip.start_file("manifest.json", deflated)?;
    serde_json::to_writer_pretty(&mut zip, &manifest)?;
    zip.finish()?.sync_all()?;
    progress(total, total);
    Ok(manifest)
}

/// What an import loaded and checked.
#[derive(Debug)]
pub struct Imported {
    pub manifest: Manifest,
    pub media_bytes: u64,
}

/// Loads an archive into `db` (migrated and empty) and `objects`, then checks it.
pub async fn import(
    db: &Db,
    objects: &Objects,
    file: &Path,
    progress: Progress<'_>,
) -> anyhow::Result<Imported> {
    let archive =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut zip = ZipArchive::new(archive).context("not a Hongshu export (not a ZIP archive)")?;
    let manifest: Manifest = serde_json::from_reader(
        zip.by_name("manifest.json")
            .context("not a Hongshu export (no manifest.json)")?,
    )
    .context("the export's manifest cannot be read")?;
    ensure!(
        manifest.format == FORMAT,
        "the export has format {}, this build reads {FORMAT}",
        manifest.format
    );
    ensure!(
        manifest.migration == portable::newest_migration(),
        "the export was made at migration {} and this build is at {}: import with the same \
         version of Hongshu that exported",
        manifest.migration,
        portable::newest_migration()
    );
    let tables = target_tables(db, &manifest).await?;
    let total = manifest.units();
    let mut done = 0;
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await?;
    }
    for (entry, table) in manifest.tables.iter().zip(&tables) {
        let lines = BufReader::new(
            zip.by_name(&format!("tables/{}.jsonl", entry.name))
                .with_context(|| format!("the export has no rows of {}", entry.name))?,
        );
        let per_insert = portable::rows_per_insert(table);
        let mut batch = Vec::with_capacity(per_insert);
        let mut first = 1;
        for (n, line) in lines.lines().enumerate() {
            let row: Vec<serde_json::Value> = serde_json::from_str(&line?)
                .with_context(|| format!("row {} of {} cannot be read", n + 1, entry.name))?;
            batch.push(row);
            if batch.len() == per_insert {
                portable::insert_rows(&mut tx, db.backend(), table, &batch, first).await?;
                first += batch.len() as u64;
                done += batch.len() as u64;
                batch.clear();
                progress(done, total);
            }
        }
        portable::insert_rows(&mut tx, db.backend(), table, &batch, first).await?;
        done += batch.len() as u64;
        progress(done, total);
    }
    tx.commit().await?;
    let mut media_bytes = 0;
    for entry in &manifest.media {
        let mut bytes = Vec::with_capacity(entry.bytes as usize);
        zip.by_name(&format!("media/{}", entry.key))
            .with_context(|| format!("the export lacks the object {}", entry.key))?
            .read_to_end(&mut bytes)?;
        ensure!(
            sha256_hex(&bytes) == entry.sha256,
            "the object {} in the export is damaged (its digest differs)",
            entry.key
        );
        objects
            .put(
                &ObjectPath::from(entry.key.as_str()),
                Bytes::from(bytes).into(),
            )
            .await
            .with_context(|| format!("cannot store the object {}", entry.key))?;
        media_bytes += entry.bytes;
        done += 1;
        progress(done, total);
    }
    check(db, objects, &manifest, &tables).await?;
    Ok(Imported {
        manifest,
        media_bytes,
    })
}

/// The target's tables in the manifest's order, after checking it is empty and has the same
/// columns.
async fn target_tables(db: &Db, manifest: &Manifest) -> anyhow::Result<Vec<Table>> {
    let mut conn = db.pool().acquire().await?;
    let present = carried_tables(&mut conn, db.backend()).await?;
    for table in &present {
        ensure!(
            portable::count(&mut conn, table).await? == 0,
            "the database is not empty ({} has rows): import only into a new database",
            table.name
        );
    }
    let mut ordered = Vec::with_capacity(manifest.tables.len());
    for entry in &manifest.tables {
        let Some(table) = present.iter().find(|t| t.name == entry.name) else {
            bail!("the export has a table {} this database lacks", entry.name);
        };
        ensure!(
            table.column_names() == entry.columns,
            "the columns of {} differ between the export and this database",
            entry.name
        );
        ordered.push(table.clone());
    }
    Ok(ordered)
}

/// After loading: every table holds the rows the export counted, the money audits pass, and
/// every object reads back with its digest.
async fn check(
    db: &Db,
    objects: &Objects,
    manifest: &Manifest,
    tables: &[Table],
) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    for (entry, table) in manifest.tables.iter().zip(tables) {
        let rows = portable::count(&mut conn, table).await? as u64;
        ensure!(
            rows == entry.rows,
            "{} holds {rows} rows after the import; the export had {}",
            entry.name,
            entry.rows
        );
    }
    drop(conn);
    let ledger = ::ledger::audit::violations(db).await?;
    ensure!(ledger.is_empty(), "the ledger's audit fails: {ledger:?}");
    let unbalanced: Vec<String> = ::ledger::audit::totals_by_currency(db)
        .await?
        .into_iter()
        .filter(|t| !t.is_balanced())
        .map(|t| t.currency.code().to_owned())
        .collect();
    ensure!(
        unbalanced.is_empty(),
        "the ledger does not balance in {unbalanced:?}"
    );
    let orders = crate::payments::audit::violations(db).await?;
    ensure!(
        orders.is_empty(),
        "the orders' money audit fails: {orders:?}"
    );
    for entry in &manifest.media {
        let bytes = read_object(objects, &entry.key).await?;
        ensure!(
            sha256_hex(&bytes) == entry.sha256,
            "the object {} reads back different from the export",
            entry.key
        );
    }
    Ok(())
}

async fn carried_tables(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> anyhow::Result<Vec<Table>> {
    Ok(portable::tables(conn, backend)
        .await?
        .into_iter()
        .filter(|t| !LEFT_BEHIND.contains(&t.name.as_str()))
        .collect())
}

/// Every object the install refers to, sorted.
async fn media_keys(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT display_key FROM media UNION SELECT card_key FROM media WHERE card_key <> '' \
         ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

async fn read_object(objects: &Objects, key: &str) -> anyhow::Result<Bytes> {
    let path = ObjectPath::from(key);
    let found = objects
        .get(&path)
        .await
        .with_context(|| format!("cannot read the object {key}"))?;
    Ok(found.bytes().await?)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Copies a live SQLite database into a new file, without stopping the server (`VACUUM INTO`
/// reads one snapshot and writes a compact copy).
pub async fn backup(db: &Db, file: &Path) -> anyhow::Result<u64> {
    ensure!(
        db.backend() == Backend::Sqlite,
        "`hongshu backup` copies a SQLite database; back PostgreSQL up with pg_dump (or move \
         house with `hongshu export`)"
    );
    ensure!(!file.exists(), "{} exists already", file.display());
    let target = file
        .to_str()
        .context("the backup's path must be valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(db.pool())
        .await
        .context("the backup failed")?;
    Ok(std::fs::metadata(file)?.len())
}
