//! The rules of notes: who may see, write, change and delete them.

use std::collections::HashMap;
use std::sync::Arc;

use kernel::{Id, Page, PageRequest, Timestamp};

use super::store::{self, Content, NoteRow};
use super::types::{
    parse_text, topics, Note, Visibility, MAX_BODY, MAX_IMAGES, MAX_PLACE, MAX_TITLE,
};
use crate::accounts::types::{Fields, User};
use crate::changes::types::Change;
use crate::error::{AppError, AppResult, FieldError};
use crate::media::types::MediaKind;
use crate::state::AppState;

/// What an author sends to create or replace a note.
pub struct Draft<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub place: &'a str,
    pub media_ids: &'a [Id],
    pub visibility: Visibility,
    pub draft: bool,
    /// Products to tag, at most [`MAX_PRODUCTS`], each on sale.
    pub product_ids: &'a [Id],
}

/// The fields an edit changes; `None` keeps the note's own.
pub struct Edit<'a> {
    pub title: Option<&'a str>,
    pub body: Option<&'a str>,
    pub place: Option<&'a str>,
    pub media_ids: Option<&'a [Id]>,
    pub visibility: Option<Visibility>,
    pub draft: Option<bool>,
    pub product_ids: Option<&'a [Id]>,
}

/// The most products one note may tag.
pub const MAX_PRODUCTS: usize = 5;

/// Checks every field at once; returns the cleaned text and the note's kind.
async fn check(
    state: &AppState,
    author: &User,
    draft: &Draft<'_>,
) -> AppResult<(String, String, String, &'static str)> {
    let mut fields = Fields::default();
    let title = fields.check(parse_text("title", draft.title, MAX_TITLE, false));
    let body = fields.check(parse_text("body", draft.body, MAX_BODY, false));
    let place = fields.check(parse_text("place", draft.place, MAX_PLACE, false));
    let kind = fields.check(media_kind(state, author, draft.media_ids).await?);
    fields.check(taggable(state, draft.product_ids).await?);
    let (((title, body), place), kind) = fields.finish(title.zip(body).zip(place).zip(kind))?;
    Ok((title, body, place, kind))
}

/// A note may tag up to five distinct products that are on sale.
async fn taggable(state: &AppState, ids: &[Id]) -> AppResult<Result<(), FieldError>> {
    let fail = |why: &str| Ok(Err(FieldError::new("product_ids", why)));
    if ids.len() > MAX_PRODUCTS {
        return fail("may name at most 5 products");
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return fail("must not repeat a product");
        }
        if crate::shop::service::product(state, None, *id)
            .await
            .is_err()
        {
            return fail("must be products on sale");
        }
    }
    Ok(Ok(()))
}

/// An image note has 1–18 of the author's images; a video note has one video then its cover.
async fn media_kind(
    state: &AppState,
    author: &User,
    ids: &[Id],
) -> AppResult<Result<&'static str, FieldError>> {
    let fail = |why: &str| Ok(Err(FieldError::new("media_ids", why)));
    if ids.is_empty() {
        return fail("must name at least one image or a video");
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return fail("must not repeat a media id");
    }
    let owned = crate::media::service::owned(state, author.id, ids).await?;
    if owned.len() != ids.len() {
        return fail("must be media you uploaded");
    }
    let kind_of = |id: &Id| owned.iter().find(|m| m.id == *id).map(|m| m.kind);
    let kinds: Vec<Option<MediaKind>> = ids.iter().map(kind_of).collect();
    match kinds.as_slice() {
        [Some(MediaKind::Video), Some(MediaKind::Image)] => Ok(Ok("video")),
        kinds if kinds.contains(&Some(MediaKind::Video)) => {
            fail("a video note has the video first, then one cover image")
        }
        kinds if kinds.len() > MAX_IMAGES => fail("may hold at most 18 images"),
        _ => Ok(Ok("image")),
    }
}

/// A draft that passed every check, with its topics and fresh ids for topics new to Hongshu.
struct Checked {
    title: String,
    body: String,
    place: String,
    kind: &'static str,
    topics: Vec<String>,
    topic_ids: Vec<Id>,
}

impl Checked {
    async fn from(state: &AppState, author: &User, draft: &Draft<'_>) -> AppResult<Checked> {
        let (title, body, place, kind) = check(state, author, draft).await?;
        let topics = topics(&body);
        let topic_ids = topics.iter().map(|_| state.ids.next_id()).collect();
        Ok(Checked {
            title,
            body,
            place,
            kind,
            topics,
            topic_ids,
        })
    }

    fn content<'a>(&'a self, draft: &'a Draft<'_>) -> Content<'a> {
        Content {
            kind: self.kind,
            title: &self.title,
            body: &self.body,
            place: &self.place,
            visibility: draft.visibility,
            draft: draft.draft,
            media: draft.media_ids,
            topics: &self.topics,
            topic_ids: &self.topic_ids,
            products: draft.product_ids,
        }
    }
}

pub async fn create(state: &AppState, author: &User, draft: &Draft<'_>) -> AppResult<Note> {
    let checked = Checked::from(state, author, draft).await?;
    let content = checked.content(draft);
    let id = state.ids.next_id();
    let mut tx = state.db.begin_write().await?;
    store::insert(&mut tx, id, author.id, &content, Timestamp::now()).await?;
    let public = draft.visibility == Visibility::Public && !draft.draft;
    let change = if public {
        Change::NotePublished {
            note: id,
            author: author.id,
        }
    } else {
        Change::NoteEdited {
            note: id,
            author: author.id,
        }
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    get(state, Some(author), id).await
}

/// Replaces a note's content (author only). Changing a published note marks it edited.
/// Changes the fields an edit names, keeping the rest of the note as it is (author only).
pub async fn edit(state: &AppState, actor: &User, id: Id, edit: &Edit<'_>) -> AppResult<Note> {
    let existing = store::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("note"))?;
    let media: Vec<Id> = store::media_of(&state.db, &[id])
        .await?
        .into_iter()
        .map(|(_, m)| m.id)
        .collect();
    let products = store::tagged_products(&state.db, id).await?;
    let draft = Draft {
        title: edit.title.unwrap_or(&existing.title),
        body: edit.body.unwrap_or(&existing.body),
        place: edit.place.unwrap_or(&existing.place),
        media_ids: edit.media_ids.unwrap_or(&media),
        visibility: edit.visibility.unwrap_or(existing.visibility),
        draft: edit.draft.unwrap_or(existing.draft),
        product_ids: edit.product_ids.unwrap_or(&products),
    };
    update(state, actor, id, &draft).await
}

pub async fn update(state: &AppState, actor: &User, id: Id, draft: &Draft<'_>) -> AppResult<Note> {
    let existing = store::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("note"))?;
    if existing.author.id != actor.id {
        visible(state, Some(actor), &existing).await?;
        return Err(AppError::Forbidden("only the author may edit a note"));
    }
    let checked = Checked::from(state, actor, draft).await?;
    let content = checked.content(draft);
    let now = Timestamp::now();
    let edited_at = if existing.draft {
        existing.edited_at
    } else {
        Some(now)
    };
    let was_public = existing.visibility == Visibility::Public && !existing.draft;
    let public = draft.visibility == Visibility::Public && !draft.draft;
    let mut tx = state.db.begin_write().await?;
    store::update(&mut tx, id, &content, now, edited_at).await?;
    let (note, author) = (id, actor.id);
    let change = if public && !was_public {
        Change::NotePublished { note, author }
    } else {
        Change::NoteEdited { note, author }
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    get(state, Some(actor), id).await
}

/// Deletes a note (its author or an administrator): its likes, collects, comments and
/// notifications go with it, in the same statement.
pub async fn delete(state: &AppState, actor: &User, id: Id) -> AppResult<()> {
    let existing = store::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("note"))?;
    if existing.author.id != actor.id && !actor.is_admin() {
        visible(state, Some(actor), &existing).await?;
        return Err(AppError::Forbidden("only the author may delete a note"));
    }
    let mut tx = state.db.begin_write().await?;
    store::delete(&mut tx, id).await?;
    let change = Change::NoteDeleted {
        note: id,
        author: existing.author.id,
    };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(())
}

/// The products on sale that a note the viewer may see tags.
pub async fn tagged_products(
    state: &AppState,
    viewer: Option<&User>,
    id: Id,
) -> AppResult<Vec<crate::shop::types::Product>> {
    get(state, viewer, id).await?;
    crate::shop::service::tagged_in(state, id, MAX_PRODUCTS as u32).await
}

/// A note as the viewer may see it: private notes and drafts only by their author, and nothing
/// across a block.
pub async fn get(state: &AppState, viewer: Option<&User>, id: Id) -> AppResult<Note> {
    let row = store::by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("note"))?;
    visible(state, viewer, &row).await?;
    Ok(hydrate(state, viewer, vec![row]).await?.remove(0))
}

/// The row if the viewer may see it; 404 otherwise, so hidden notes do not reveal they exist
/// (to any method: editing or deleting someone else's hidden note is a 404 too).
pub async fn visible(state: &AppState, viewer: Option<&User>, row: &NoteRow) -> AppResult<()> {
    let own = viewer.is_some_and(|v| v.id == row.author.id);
    let published = row.visibility == Visibility::Public && !row.draft;
    if own
        || (published
            && !crate::accounts::service::blocked_between(state, viewer, row.author.id).await?)
    {
        Ok(())
    } else {
        Err(AppError::NotFound("note"))
    }
}

pub async fn by_author(
    state: &AppState,
    viewer: Option<&User>,
    author: &User,
    page: &PageRequest,
) -> AppResult<Page<Note>> {
    let own = viewer.is_some_and(|v| v.id == author.id);
    list(
        state,
        viewer,
        store::Scope::Author { id: author.id, own },
        page,
    )
    .await
}

pub async fn by_topic(
    state: &AppState,
    viewer: Option<&User>,
    topic: &str,
    page: &PageRequest,
) -> AppResult<Page<Note>> {
    list(
        state,
        viewer,
        store::Scope::Topic(&topic.to_lowercase()),
        page,
    )
    .await
}

async fn list(
    state: &AppState,
    viewer: Option<&User>,
    scope: store::Scope<'_>,
    page: &PageRequest,
) -> AppResult<Page<Note>> {
    let (size, before) = crate::web::page_bounds(page)?;
    let rows = store::list(&state.db, scope, viewer.map(|v| v.id), before, size + 1).await?;
    paged(state, viewer, rows, size).await
}

async fn paged(
    state: &AppState,
    viewer: Option<&User>,
    rows: Vec<NoteRow>,
    size: u32,
) -> AppResult<Page<Note>> {
    let page = Page::from_rows(rows, size, |r| r.id.as_i64());
    Ok(Page {
        items: hydrate(state, viewer, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// The notes with these ids that the viewer may see in a list, in the order given, marked with
/// the viewer's likes and collects. Content comes from the note cache where it can.
pub async fn public(state: &AppState, viewer: Option<&User>, ids: &[i64]) -> AppResult<Vec<Note>> {
    let visible = store::visible_with_marks(&state.db, viewer.map(|v| v.id), ids).await?;
    let mut found: HashMap<i64, Arc<Note>> = HashMap::with_capacity(visible.len());
    let mut missing = Vec::new();
    for (id, _, _) in &visible {
        match state.note_cache.get(Id::from_i64(*id)) {
            Some(note) => drop(found.insert(*id, note)),
            None => missing.push(*id),
        }
    }
    state.metrics.note_cache(found.len(), missing.len());
    if !missing.is_empty() {
        let epoch = state.note_cache.epoch();
        let rows = store::public_by_ids(&state.db, &missing).await?;
        let read: Vec<Arc<Note>> = hydrate(state, None, rows)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        state.note_cache.keep(epoch, &read);
        found.extend(read.into_iter().map(|note| (note.id.as_i64(), note)));
    }
    let marks: HashMap<i64, (bool, bool)> = visible
        .into_iter()
        .map(|(id, liked, collected)| (id, (liked, collected)))
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            let (liked, collected) = marks.get(id)?;
            let mut note = Note::clone(found.get(id)?);
            note.liked = *liked;
            note.collected = *collected;
            Some(note)
        })
        .collect())
}

/// Adds media, topics and the viewer's marks to note rows, keeping their order.
pub async fn hydrate(
    state: &AppState,
    viewer: Option<&User>,
    rows: Vec<NoteRow>,
) -> AppResult<Vec<Note>> {
    let ids: Vec<Id> = rows.iter().map(|r| r.id).collect();
    let mut media: HashMap<Id, Vec<_>> = HashMap::new();
    for (note, m) in store::media_of(&state.db, &ids).await? {
        media.entry(note).or_default().push(m);
    }
    let mut topics: HashMap<Id, Vec<String>> = HashMap::new();
    for (note, t) in store::topics_of(&state.db, &ids).await? {
        topics.entry(note).or_default().push(t);
    }
    let marks: HashMap<Id, (bool, bool)> = match viewer {
        Some(v) => store::viewer_marks(&state.db, v.id, &ids)
            .await?
            .into_iter()
            .map(|(id, liked, collected)| (id, (liked, collected)))
            .collect(),
        None => HashMap::new(),
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let (liked, collected) = marks.get(&r.id).copied().unwrap_or_default();
            Note {
                media: media.remove(&r.id).unwrap_or_default(),
                topics: topics.remove(&r.id).unwrap_or_default(),
                liked,
                collected,
                id: r.id,
                author: r.author,
                kind: r.kind,
                title: r.title,
                body: r.body,
                place: r.place,
                visibility: r.visibility,
                draft: r.draft,
                like_count: r.like_count,
                collect_count: r.collect_count,
                comment_count: r.comment_count,
                created_at: r.created_at,
                updated_at: r.updated_at,
                edited_at: r.edited_at,
            }
        })
        .collect())
}
