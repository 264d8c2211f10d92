//! The rules of media: what may be uploaded, how it is turned into what Hongshu stores.

use std::sync::Arc;

use bytes::Bytes;
use kernel::Timestamp;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use sha2::{Digest, Sha256};

use super::container;
use super::process::{self, Detected, ImageLimits};
use super::store::{self, NewMedia};
use super::types::{Media, MediaKind};
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The owner's media among `ids`, in the order of `ids`; others' media and unknown ids are left
/// out. What a photo picker shows again when its form comes back.
pub async fn owned_in_order(
    state: &AppState,
    owner: &User,
    ids: &[kernel::Id],
) -> AppResult<Vec<Media>> {
    let mut media = owned(state, owner.id, ids).await?;
    media.sort_by_key(|m| ids.iter().position(|id| *id == m.id));
    Ok(media)
}

/// The media among `ids` that `owner` uploaded, in no particular order.
pub async fn owned(
    state: &AppState,
    owner: kernel::Id,
    ids: &[kernel::Id],
) -> AppResult<Vec<Media>> {
    let media = store::by_ids(&state.db, ids).await?;
    Ok(media.into_iter().filter(|m| m.owner_id == owner).collect())
}

/// The media among `ids` that exist, whoever uploaded them.
pub async fn by_ids(state: &AppState, ids: &[kernel::Id]) -> AppResult<Vec<Media>> {
    Ok(store::by_ids(&state.db, ids).await?)
}

/// The memory that image decodes may take together, in MiB: each decode reserves what its
/// header says it needs before it starts, so concurrent uploads wait their turn instead of
/// taking the server's memory between them.
pub struct DecodeBudget {
    permits: Arc<tokio::sync::Semaphore>,
    total_mib: u32,
}

/// How long an upload waits for decode memory before it is answered 503.
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl DecodeBudget {
    pub fn new(bytes: u64) -> DecodeBudget {
        let total_mib = u32::try_from(bytes >> 20).unwrap_or(u32::MAX).max(1);
        DecodeBudget {
            permits: Arc::new(tokio::sync::Semaphore::new(total_mib as usize)),
            total_mib,
        }
    }

    /// Waits until `bytes` of the budget are free and holds them until the guard is dropped.
    pub async fn reserve(&self, bytes: u64) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
        let mib = u32::try_from(bytes.div_ceil(1 << 20))
            .unwrap_or(u32::MAX)
            .min(self.total_mib);
        let waited =
            tokio::time::timeout(DECODE_WAIT, self.permits.clone().acquire_many_owned(mib)).await;
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(AppError::Internal(closed.into())),
            Err(_) => Err(AppError::Busy(5)),
        }
    }
}

/// Where media objects live: the local media folder, or any `object_store` backend.
pub type Objects = Arc<dyn ObjectStore>;

/// Opens the configured object store: the local media folder, or an S3-compatible bucket.
pub fn open_objects(config: &crate::config::Config) -> anyhow::Result<Objects> {
    let media = &config.media;
    match media.store.as_str() {
        "local" => Ok(Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(config.media_dir())?,
        )),
        "s3" => {
            let mut builder = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(&media.s3_bucket)
                .with_region(&media.s3_region)
                .with_access_key_id(&media.s3_access_key_id)
                .with_secret_access_key(&media.s3_secret_access_key);
            if !media.s3_endpoint.is_empty() {
                builder = builder
                    .with_endpoint(&media.s3_endpoint)
                    .with_allow_http(media.s3_endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            Ok(Arc::new(builder.build()?))
        }
        other => anyhow::bail!("media.store must be \"local\" or \"s3\", not {other:?}"),
    }
}

const ACCEPTED: &str = "is not an image or video Hongshu accepts (JPEG, PNG, WebP, MP4 or WebM)";

/// Checks an upload by its content and stores what Hongshu keeps of it.
pub async fn upload(state: &AppState, owner: &User, bytes: Bytes) -> AppResult<Media> {
    let config = &state.config.media;
    let detected = process::detect(&bytes).ok_or_else(|| AppError::invalid("file", ACCEPTED))?;
    let now = Timestamp::now();
    let id = state.ids.next_id();
    let media = match detected {
        Detected::Image(format) => {
            check_size(bytes.len(), config.max_image_bytes)?;
            let limits = ImageLimits {
                max_pixels: config.max_image_pixels,
                max_bytes: config.max_decode_bytes,
                display_edge: config.display_edge,
                card_edge: config.card_edge,
            };
            let needed = process::memory_needed(&bytes, format, limits)
                .map_err(|e| AppError::invalid("file", e.to_string()))?;
            let _reserved = state.decoding.reserve(needed).await?;
            let derived =
                tokio::task::spawn_blocking(move || process::derive(&bytes, format, limits))
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?
                    .map_err(|e| AppError::invalid("file", e.to_string()))?;
            let display_key = put(&state.media, "d", derived.display.into(), "jpg").await?;
            let card_key = put(&state.media, "c", derived.card.into(), "jpg").await?;
            NewMediaOwned {
                kind: MediaKind::Image,
                width: Some(i64::from(derived.width)),
                height: Some(i64::from(derived.height)),
                color: derived.color,
                display_key,
                card_key,
                mime: "image/jpeg",
            }
        }
        Detected::Mp4 | Detected::Webm => {
            check_size(bytes.len(), config.max_video_bytes)?;
            let (extension, mime, whole) = match detected {
                Detected::Mp4 => ("mp4", "video/mp4", container::check_mp4(&bytes)),
                _ => ("webm", "video/webm", container::check_webm(&bytes)),
            };
            whole.map_err(|why| {
                AppError::invalid(
                    "file",
                    format!("is not a whole {extension} video: it {why}"),
                )
            })?;
            NewMediaOwned {
                kind: MediaKind::Video,
                width: None,
                height: None,
                color: String::new(),
                display_key: put(&state.media, "v", bytes, extension).await?,
                card_key: String::new(),
                mime,
            }
        }
    };
    let size = object_size(&state.media, &media.display_key).await?;
    let row = NewMedia {
        id,
        owner_id: owner.id,
        kind: media.kind,
        width: media.width,
        height: media.height,
        color: &media.color,
        display_key: &media.display_key,
        card_key: &media.card_key,
        mime: media.mime,
        bytes: size,
        now,
    };
    store::insert(&state.db, &row).await?;
    let stored = store::by_ids(&state.db, &[id]).await?;
    stored
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("media row vanished")))
}

struct NewMediaOwned {
    kind: MediaKind,
    width: Option<i64>,
    height: Option<i64>,
    color: String,
    display_key: String,
    card_key: String,
    mime: &'static str,
}

fn check_size(size: usize, limit: usize) -> AppResult<()> {
    if size > limit {
        return Err(AppError::invalid(
            "file",
            format!("is larger than the limit of {} MiB", limit / (1024 * 1024)),
        ));
    }
    Ok(())
}

/// Stores bytes under the hash of their content, so the same bytes are stored once.
async fn put(objects: &Objects, prefix: &str, data: Bytes, extension: &str) -> AppResult<String> {
    let hash: String = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = format!("{prefix}/{}/{hash}.{extension}", &hash[..2]);
    let path = ObjectPath::from(key.as_str());
    if objects.head(&path).await.is_err() {
        objects
            .put(&path, data.into())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(key)
}

async fn object_size(objects: &Objects, key: &str) -> AppResult<i64> {
    let meta = objects
        .head(&ObjectPath::from(key))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(i64::try_from(meta.size).unwrap_or(i64::MAX))
}
