//! The rules of privacy: a member's archive, and leaving Hongshu.

use std::io::{Seek, Write};

use kernel::Timestamp;
use object_store::path::Path as ObjectPath;
use serde_json::{Map, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::store;
use crate::accounts::service as accounts;
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::state::AppState;

/// Everything Hongshu holds about the member, as one ZIP archive in a temporary file (unlinked,
/// so it goes when the file is closed): `data.json`, section by section, and the pictures and
/// videos of their notes under `media/`.
pub async fn export(state: &AppState, member: &User) -> AppResult<std::fs::File> {
    let mut data = Map::new();
    for (name, sql) in store::SECTIONS {
        let rows = store::section(&state.db, sql, member.id).await?;
        data.insert(name.to_owned(), Value::Array(rows));
    }
    let interests = crate::feed::service::interests(state, member);
    let interests = serde_json::to_value(interests).map_err(|e| AppError::Internal(e.into()))?;
    data.insert("interest_tags".to_owned(), interests);
    let keys: Vec<String> = data["note_media"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["display_key"].as_str().map(str::to_owned))
        .collect();
    let file = tempfile::tempfile().map_err(internal)?;
    let mut archive = ZipWriter::new(file);
    let json = serde_json::to_vec_pretty(&Value::Object(data)).map_err(internal)?;
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    archive
        .start_file("data.json", deflated)
        .map_err(internal)?;
    archive.write_all(&json).map_err(internal)?;
    // Pictures and videos are compressed already.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for key in keys {
        let object = state.media.get(&ObjectPath::from(key.as_str())).await;
        let bytes = object.map_err(internal)?.bytes().await.map_err(internal)?;
        archive
            .start_file(format!("media/{key}"), stored)
            .map_err(internal)?;
        archive.write_all(&bytes).map_err(internal)?;
    }
    let mut file = archive.finish().map_err(internal)?;
    file.rewind().map_err(internal)?;
    Ok(file)
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> AppError {
    AppError::Internal(e.into())
}

/// The member leaves, having confirmed with their password: their notes are deleted (gone
/// from the feed, search and the note cache as any deleted note is), then in one transaction
/// everything else of theirs is erased or anonymised, and search forgets them.
pub async fn delete_account(state: &AppState, member: &User, password: &str) -> AppResult<()> {
    if !accounts::password_matches(state, member, password).await? {
        return Err(AppError::invalid("password", "is not your password"));
    }
    let owned = store::sole_ownerships(&state.db, member.id).await?;
    if !owned.is_empty() {
        return Err(AppError::Conflict(
            "orgs",
            format!(
                "you are the only owner of {}; make someone else an owner first",
                owned.join(", ")
            ),
        ));
    }
    for note in store::note_ids(&state.db, member.id).await? {
        notes::delete(state, member, note).await?;
    }
    let mut tx = state.db.begin_write().await?;
    let touched = store::erase(&mut tx, member.id, Timestamp::now()).await?;
    let change = Change::AccountDeleted {
        member: member.id,
        touched,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    tracing::info!(
        member = member.id.as_i64(),
        "a member deleted their account"
    );
    Ok(())
}
