//! Moving house: the demo community exported, imported into the other database (PostgreSQL and
//! SQLite when the suite has PostgreSQL), exported again and carried back arrives identical,
//! media and money included; an import into a database in use is refused; a live SQLite
//! database is backed up.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use app::media::service::Objects;
use app::moving::{self, Manifest};
use store::{Backend, Db};

use crate::helpers::{spawn_app, spawn_app_with};

/// An export read back: the manifest without its time, and each table's rows, sorted (the two
/// databases order text differently).
#[derive(Debug, PartialEq)]
struct Contents {
    manifest: Manifest,
    rows: BTreeMap<String, Vec<String>>,
}

fn contents(file: &Path) -> Contents {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut manifest: Manifest = {
        let mut text = String::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    manifest.exported_at = 0;
    let mut rows = BTreeMap::new();
    for table in &manifest.tables {
        let entry = zip
            .by_name(&format!("tables/{}.jsonl", table.name))
            .unwrap();
        let mut lines: Vec<String> = BufReader::new(entry).lines().map(Result::unwrap).collect();
        lines.sort();
        rows.insert(table.name.clone(), lines);
    }
    Contents { manifest, rows }
}

/// A fresh, migrated database of `backend` and an empty local media store, in `dir`.
async fn fresh_install(dir: &Path, backend: Backend) -> (Db, Objects) {
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let url = match backend {
        Backend::Sqlite => store::sqlite_url(&dir.join("hongshu.db")),
        Backend::Postgres => store::testing::fresh_database_url(dir).await,
    };
    let db = Db::connect(&url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let objects: Objects =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.join("media")).unwrap());
    (db, objects)
}

async fn carry(from: (&Db, &Objects), to: (&Db, &Objects), archive: &Path) {
    moving::export(from.0, from.1, archive, &|_, _| {})
        .await
        .unwrap();
    moving::import(to.0, to.1, archive, &|_, _| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn the_demo_community_moves_to_the_other_database_and_back_unchanged() {
    let app = spawn_app().await;
    let small = app::demo::DemoSize {
        members: 8,
        notes: 12,
    };
    let demo = app::demo::seed(&app.state, small, &|_, _| {})
        .await
        .unwrap()
        .expect("the demo");
    app.caught_up().await;
    let here = app.state.db.backend();
    // The other database when the suite runs on PostgreSQL; on SQLite, another SQLite.
    let other = Backend::Sqlite;
    let dir = tempfile::tempdir().unwrap();
    let (away, away_media) = fresh_install(&dir.path().join("away"), other).await;
    let (back, back_media) = fresh_install(&dir.path().join("back"), here).await;
    let (again, again_media) = fresh_install(&dir.path().join("again"), other).await;
    let archives: Vec<_> = (1..=4)
        .map(|n| dir.path().join(format!("export{n}.zip")))
        .collect();
    carry(
        (&app.state.db, &app.state.media),
        (&away, &away_media),
        &archives[0],
    )
    .await;
    carry((&away, &away_media), (&back, &back_media), &archives[1]).await;
    carry((&back, &back_media), (&again, &again_media), &archives[2]).await;
    moving::export(&again, &again_media, &archives[3], &|_, _| {})
        .await
        .unwrap();

    let first = contents(&archives[0]);
    assert!(first.manifest.rows() > 100, "the demo has content");
    assert!(!first.manifest.media.is_empty(), "and pictures");
    assert!(first.rows["ledger_transfers"].len() > 10, "and money");
    for archive in &archives[1..] {
        assert!(contents(archive) == first, "{} differs", archive.display());
    }

    // A server on the database carried back serves the community: its members sign in, its
    // pictures load.
    let back_dir = dir.path().join("back");
    let back_url = match here {
        Backend::Sqlite => store::sqlite_url(&back_dir.join("hongshu.db")),
        Backend::Postgres => back_url_of(&back).await,
    };
    back.close().await;
    let moved = spawn_app_with(|c| {
        c.storage.database_url = back_url;
        c.storage.data_dir = back_dir.clone();
        c.media.store = "local".into();
    })
    .await;
    let signed_in = moved.login(&demo.handles[0], &demo.password).await;
    assert_eq!(signed_in.status(), reqwest::StatusCode::OK);
    let notes = moved.get_json("/api/v1/topics/beauty/notes").await;
    let card = notes["items"][0]["media"][0]["card_url"].as_str().unwrap();
    let picture = moved.api.get(moved.url(card)).send().await.unwrap();
    assert_eq!(picture.status(), reqwest::StatusCode::OK);
}

/// The URL of a PostgreSQL database made by `fresh_install`: its name, on the suite's server.
async fn back_url_of(db: &Db) -> String {
    let name: String = store::query_scalar("SELECT CAST(current_database() AS TEXT)")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let server = std::env::var(store::testing::POSTGRES_ENV).unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

#[tokio::test]
async fn an_import_into_a_database_in_use_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.member("resident").await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("export.zip");
    moving::export(&app.state.db, &app.state.media, &archive, &|_, _| {})
        .await
        .unwrap();
    let refused = moving::import(&app.state.db, &app.state.media, &archive, &|_, _| {})
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not empty"), "{refused:#}");
    let members: i64 = store::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(members, 1);
    let again = moving::export(&app.state.db, &app.state.media, &archive, &|_, _| {}).await;
    assert!(again.is_err(), "an export never overwrites a file");
}

#[tokio::test]
async fn a_live_sqlite_database_is_backed_up_into_a_file_that_opens() {
    let app = spawn_app().await;
    app.member("careful").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let backed_up = moving::backup(&app.state.db, &file).await;
    if app.state.db.backend() == Backend::Postgres {
        let refused = backed_up.unwrap_err().to_string();
        assert!(refused.contains("pg_dump"), "{refused}");
        return;
    }
    assert!(backed_up.unwrap() > 0);
    let copy = Db::connect(&store::sqlite_url(&file), 1).await.unwrap();
    let members: Vec<String> = store::query_scalar("SELECT handle FROM users")
        .fetch_all(copy.pool())
        .await
        .unwrap();
    assert_eq!(members, ["careful"]);
    assert!(
        moving::backup(&app.state.db, &file).await.is_err(),
        "never over a file"
    );
}
