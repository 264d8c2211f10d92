//! Web pages of notes: the note itself with its comments, the composer, and topic pages.

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service::{self, Draft};
use super::store;
use super::types::{spans, Note, Span, Visibility};
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::media::types::Media;
use crate::social::service as social;
use crate::social::types::{Board, Comment, ReportReason, ReportTarget};
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery, AuthUser, CsrfForm};
use crate::web::pages::{id_list, local_path, parse_ids, render, FormState, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notes/new", get(new_page).post(create))
        .route("/notes/{id}", get(note_page))
        .route("/notes/{id}/qr.svg", get(note_qr))
        .route("/notes/{id}/edit", get(edit_page).post(update))
        .route("/notes/{id}/delete", post(delete))
        .route("/notes/{id}/like", post(toggle_like))
        .route("/notes/{id}/collect", post(toggle_collect))
        .route("/notes/{id}/collect-to", post(collect_to))
        .route("/notes/{id}/comments", post(add_comment))
        .route("/comments/{id}/delete", post(delete_comment))
        .route("/comments/{id}/pin", post(toggle_pin))
        .route("/comments/{id}/like", post(toggle_comment_like))
        .route("/notes/{id}/report", post(report))
        .route("/topics/{topic}", get(topic_page))
}

#[derive(Template)]
#[template(path = "note.html")]
struct NotePage {
    ctx: PageCtx,
    note: Note,
    spans: Vec<(&'static str, String)>,
    summary: String,
    public_url: String,
    is_author: bool,
    following: bool,
    comments: Vec<Comment>,
    reply_to: String,
    reported: bool,
    /// The reader's boards, to choose where a collect goes.
    boards: Vec<Board>,
    /// Products the note tags that are on sale.
    products: Vec<crate::shop::types::Product>,
}

impl NotePage {
    /// Replies attach to the thread's first comment.
    fn reply_target(&self, comment: &Comment) -> Id {
        comment.parent_id.unwrap_or(comment.id)
    }

    fn may_delete(&self, comment: &Comment) -> bool {
        self.ctx
            .user
            .as_ref()
            .is_some_and(|me| me.id == comment.author.id || self.is_author || me.is_admin())
    }
}

#[derive(Deserialize)]
struct NoteQuery {
    reply_to: Option<Id>,
    reported: Option<u8>,
}

async fn note_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(query): ApiQuery<NoteQuery>,
) -> AppResult<Response> {
    let viewer = ctx.user.clone();
    let note = service::get(&state, viewer.as_ref(), id).await?;
    let comments = social::comments(
        &state,
        viewer.as_ref(),
        id,
        &PageRequest {
            cursor: None,
            limit: Some(50),
        },
    )
    .await?;
    let is_author = viewer.as_ref().is_some_and(|v| v.id == note.author.id);
    let following = match &viewer {
        Some(v) if !is_author => social::is_following(&state, v, note.author.id).await?,
        _ => false,
    };
    let boards = match &viewer {
        Some(v) => social::boards(&state, Some(v), v).await?,
        None => Vec::new(),
    };
    let products = service::tagged_products(&state, viewer.as_ref(), id).await?;
    let page = NotePage {
        products,
        spans: body_spans(&note.body),
        summary: note.body.chars().take(120).collect(),
        public_url: state
            .config
            .server
            .public_url
            .trim_end_matches('/')
            .to_owned(),
        is_author,
        following,
        boards,
        comments: comments.items,
        reply_to: query.reply_to.map(|id| id.to_string()).unwrap_or_default(),
        reported: query.reported.is_some(),
        ctx,
        note,
    };
    render(StatusCode::OK, &page)
}

/// The note's address as a QR code, for a phone's camera or WeChat's scanner.
async fn note_qr(State(state): State<AppState>, ApiPath(id): ApiPath<Id>) -> AppResult<Response> {
    let note = service::get(&state, None, id).await?;
    let url = format!(
        "{}/notes/{}",
        state.config.server.public_url.trim_end_matches('/'),
        note.id
    );
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(anyhow::Error::from)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build();
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml"),
        (header::CACHE_CONTROL, "public, max-age=86400"),
    ];
    Ok((headers, svg).into_response())
}

/// The body as (kind, text) pieces for the template, which escapes each.
fn body_spans(body: &str) -> Vec<(&'static str, String)> {
    spans(body)
        .into_iter()
        .map(|span| match span {
            Span::Text(text) => ("text", text.to_owned()),
            Span::Topic(topic) => ("topic", topic.to_owned()),
            Span::Mention(handle) => ("mention", handle.to_owned()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposePage {
    ctx: PageCtx,
    form: FormState,
    media: Vec<Media>,
    topics: Vec<String>,
    action: String,
    editing: Option<Id>,
    /// Products the note can tag: those it tags, then the newest on sale.
    products: Vec<crate::shop::types::Product>,
    tagged: Vec<Id>,
}

#[derive(Deserialize)]
struct ComposeForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    media_ids: String,
    #[serde(default)]
    visibility: String,
    draft: Option<String>,
    /// Ticked products arrive as `product_<id>=on`.
    #[serde(flatten)]
    picked: std::collections::HashMap<String, String>,
}

impl ComposeForm {
    fn media(&self) -> Vec<Id> {
        parse_ids(&self.media_ids)
    }

    /// The products ticked in the picker.
    fn products(&self) -> Vec<Id> {
        let mut ids: Vec<Id> = self
            .picked
            .keys()
            .filter_map(|key| key.strip_prefix("product_")?.parse().ok())
            .collect();
        ids.sort();
        ids
    }

    fn values(self) -> Vec<(&'static str, String)> {
        let products = id_list(&self.products());
        vec![
            ("title", self.title),
            ("body", self.body),
            ("place", self.place),
            ("media_ids", self.media_ids),
            ("visibility", self.visibility),
            ("product_ids", products),
        ]
    }
}

async fn composer(
    state: &AppState,
    ctx: PageCtx,
    user: &User,
    form: FormState,
    editing: Option<Id>,
    status: StatusCode,
) -> AppResult<Response> {
    let ids = parse_ids(form.value("media_ids"));
    let media = crate::media::service::owned_in_order(state, user, &ids).await?;
    let tagged = parse_ids(form.value("product_ids"));
    let newest = PageRequest {
        cursor: None,
        limit: Some(30),
    };
    let mut products = Vec::new();
    for id in &tagged {
        products.extend(crate::shop::service::product(state, None, *id).await.ok());
    }
    for product in crate::shop::service::products(state, None, None, None, &newest)
        .await?
        .items
    {
        if !tagged.contains(&product.id) {
            products.push(product);
        }
    }
    let page = ComposePage {
        ctx,
        form,
        media,
        topics: store::popular_topics(&state.db, 12).await?,
        action: editing.map_or_else(|| "/notes/new".to_owned(), |id| format!("/notes/{id}/edit")),
        editing,
        products,
        tagged,
    };
    render(status, &page)
}

async fn new_page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
) -> AppResult<Response> {
    composer(
        &state,
        ctx,
        &user,
        FormState::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn edit_page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Response> {
    let note = service::get(&state, Some(&user), id).await?;
    if note.author.id != user.id {
        return Err(AppError::Forbidden("only the author may edit a note"));
    }
    let ids: Vec<Id> = note.media.iter().map(|m| m.id).collect();
    let tagged = store::tagged_products(&state.db, id).await?;
    let form = FormState {
        values: vec![
            ("title", note.title),
            ("body", note.body),
            ("place", note.place),
            ("media_ids", id_list(&ids)),
            ("visibility", note.visibility.as_str().to_owned()),
            ("product_ids", id_list(&tagged)),
        ],
        ..FormState::default()
    };
    composer(&state, ctx, &user, form, Some(id), StatusCode::OK).await
}

/// Creates or updates a note from the composer; a refused form comes back with its errors.
async fn save(
    state: &AppState,
    ctx: PageCtx,
    user: &User,
    form: ComposeForm,
    editing: Option<Id>,
) -> AppResult<Response> {
    let media = form.media();
    let products = form.products();
    let draft = Draft {
        title: &form.title,
        body: &form.body,
        place: &form.place,
        media_ids: &media,
        visibility: if form.visibility == "private" {
            Visibility::Private
        } else {
            Visibility::Public
        },
        draft: form.draft.is_some(),
        product_ids: &products,
    };
    let saved = match editing {
        Some(id) => service::update(state, user, id, &draft).await,
        None => service::create(state, user, &draft).await,
    };
    match saved {
        Ok(note) => Ok(Redirect::to(&format!("/notes/{}", note.id)).into_response()),
        Err(err) => {
            let (status, form) = FormState::refused(form.values(), err)?;
            composer(state, ctx, user, form, editing, status).await
        }
    }
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<ComposeForm>,
) -> AppResult<Response> {
    save(&state, ctx, &user, form, None).await
}

async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<ComposeForm>,
) -> AppResult<Response> {
    save(&state, ctx, &user, form, Some(id)).await
}

#[derive(Deserialize)]
struct Empty {}

async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    service::delete(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/@{}", user.handle)).into_response())
}

fn back_to(note: Id) -> Response {
    Redirect::to(&format!("/notes/{note}")).into_response()
}

async fn toggle_like(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    let note = service::get(&state, Some(&user), id).await?;
    if note.liked {
        social::set_like(&state, &user, id, false).await?;
    } else {
        social::set_like(&state, &user, id, true).await?;
    }
    Ok(back_to(id))
}

async fn toggle_collect(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    let note = service::get(&state, Some(&user), id).await?;
    if note.collected {
        social::uncollect(&state, &user, id).await?;
    } else {
        social::collect(&state, &user, id, None).await?;
    }
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct CollectToForm {
    #[serde(default)]
    board_id: String,
    /// A new board's name, made and used when given.
    #[serde(default)]
    new_board: String,
}

/// Collects the note into a board the reader chose, or into a new one they named.
async fn collect_to(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<CollectToForm>,
) -> AppResult<Response> {
    let board = if form.new_board.trim().is_empty() {
        form.board_id
            .parse::<Id>()
            .map_err(|_| AppError::invalid("board_id", "is required"))?
    } else {
        social::create_board(&state, &user, &form.new_board, false)
            .await?
            .id
    };
    social::collect(&state, &user, id, Some(board)).await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct CommentForm {
    body: String,
    #[serde(default)]
    parent_id: String,
}

async fn add_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> AppResult<Response> {
    let parent = form.parent_id.parse().ok();
    let comment = social::comment(&state, &user, id, &form.body, parent).await?;
    Ok(Redirect::to(&format!("/notes/{id}#c{}", comment.id)).into_response())
}

async fn delete_comment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    let comment = crate::social::store::comment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    social::delete_comment(&state, &user, id).await?;
    Ok(back_to(comment.note_id))
}

async fn toggle_pin(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    let comment = crate::social::store::comment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    social::pin_comment(&state, &user, id, !comment.pinned).await?;
    Ok(back_to(comment.note_id))
}

async fn toggle_comment_like(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    _: CsrfForm<Empty>,
) -> AppResult<Response> {
    let comment = social::toggle_comment_like(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/notes/{}#c{id}", comment.note_id)).into_response())
}

#[derive(Deserialize)]
struct ReportForm {
    reason: ReportReason,
}

async fn report(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> AppResult<Response> {
    social::report(&state, &user, ReportTarget::Note, id, form.reason, "").await?;
    Ok(Redirect::to(&format!("/notes/{id}?reported=1")).into_response())
}

#[derive(Template)]
#[template(path = "topic.html")]
struct TopicPage {
    ctx: PageCtx,
    topic: String,
    notes: Vec<Note>,
    next_cursor: Option<String>,
}

async fn topic_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(topic): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Response> {
    let page = service::by_topic(&state, ctx.user.as_ref(), &topic, &page).await?;
    let view = TopicPage {
        ctx,
        topic: topic.to_lowercase(),
        notes: page.items,
        next_cursor: page.next_cursor,
    };
    render(StatusCode::OK, &view)
}

/// Where a form wants to go back to afterwards.
pub fn next_or(next: Option<&str>, fallback: &str) -> Response {
    let target = match next {
        Some(path) => local_path(Some(path)),
        None => fallback.to_owned(),
    };
    Redirect::to(&target).into_response()
}
