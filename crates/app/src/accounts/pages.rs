//! Web pages of accounts: sign up, sign in, sign out, profiles and the profile editor.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::service;
use super::types::User;
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::notes::types::Note;
use crate::orgs::types::Org;
use crate::shop::types::Store;
use crate::social::service as social;
use crate::social::types::{Board, ProfileStats};
use crate::state::AppState;
use crate::web::cookies;
use crate::web::extract::{presented_token, ApiPath, ApiQuery, AuthUser, ClientAddr, CsrfForm};
use crate::web::pages::{local_path, render, FormState, PageCtx};
use crate::web::when::OFFERED_ZONES;
use kernel::{PageRequest, Zone};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/@{handle}", get(profile))
        .route(
            "/settings/profile",
            get(edit_profile_page).post(edit_profile),
        )
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    ctx: PageCtx,
    form: FormState,
}

async fn signup_page(ctx: PageCtx) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &SignupPage {
            ctx,
            form: FormState::default(),
        },
    )
}

#[derive(Deserialize)]
struct SignupForm {
    handle: String,
    display_name: String,
    password: String,
}

/// Creates the account and signs the new member in at once.
async fn signup(
    State(state): State<AppState>,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> AppResult<Response> {
    let created = service::signup(&state, &form.handle, &form.display_name, &form.password).await;
    match created {
        Ok(user) => {
            let destination = format!("/@{}", user.handle);
            let signed_in = service::start_session(&state, user).await?;
            let jar = CookieJar::new().add(cookies::session_for(
                &signed_in,
                state.config.secure_cookies(),
            ));
            Ok((jar, Redirect::to(&destination)).into_response())
        }
        Err(err) => {
            let values = vec![("handle", form.handle), ("display_name", form.display_name)];
            let (status, form) = FormState::refused(values, err)?;
            render(status, &SignupPage { ctx, form })
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    form: FormState,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(ctx: PageCtx, ApiQuery(query): ApiQuery<NextQuery>) -> AppResult<Response> {
    let next = local_path(query.next.as_deref());
    render(
        StatusCode::OK,
        &LoginPage {
            ctx,
            form: FormState::default(),
            next,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    handle: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    ClientAddr(address): ClientAddr,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let next = local_path(form.next.as_deref());
    match service::login(&state, &form.handle, &form.password, address).await {
        Ok(signed_in) => {
            let jar = CookieJar::new().add(cookies::session_for(
                &signed_in,
                state.config.secure_cookies(),
            ));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(err) => {
            let retry_after = match err {
                AppError::TooManyRequests(seconds) => Some(seconds),
                _ => None,
            };
            let (status, form) = FormState::refused(vec![("handle", form.handle)], err)?;
            let mut response = render(status, &LoginPage { ctx, form, next })?;
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.max(1).into());
            }
            Ok(response)
        }
    }
}

#[derive(Deserialize)]
struct EmptyForm {}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    _: CsrfForm<EmptyForm>,
) -> AppResult<Response> {
    if let Some(token) = presented_token(&headers) {
        service::logout(&state, &token).await?;
    }
    let jar = CookieJar::new().add(cookies::clear_session(state.config.secure_cookies()));
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    ctx: PageCtx,
    member: User,
    /// The organisations the member works for, with their official badges.
    orgs: Vec<Org>,
    stats: ProfileStats,
    following: bool,
    /// `notes` or `boards`.
    tab: String,
    notes: Vec<Note>,
    boards: Vec<Board>,
    next_cursor: Option<String>,
    /// On one's own profile: the stores one works for, with a way into their back office.
    my_stores: Vec<Store>,
}

impl ProfilePage {
    fn is_me(&self) -> bool {
        self.ctx
            .user
            .as_ref()
            .is_some_and(|me| me.id == self.member.id)
    }
}

#[derive(Deserialize)]
struct ProfileQuery {
    tab: Option<String>,
    cursor: Option<String>,
}

async fn profile(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(handle): ApiPath<String>,
    ApiQuery(query): ApiQuery<ProfileQuery>,
) -> AppResult<Response> {
    let member = service::user_by_handle(&state, &handle).await?;
    let viewer = ctx.user.clone();
    let orgs = crate::orgs::service::orgs_of(&state, &member).await?;
    let stats = social::profile_stats(&state, &member).await?;
    let following = match &viewer {
        Some(v) if v.id != member.id => social::is_following(&state, v, member.id).await?,
        _ => false,
    };
    let tab = if query.tab.as_deref() == Some("boards") {
        "boards"
    } else {
        "notes"
    };
    let (notes, boards, next_cursor) = if tab == "boards" {
        (
            Vec::new(),
            social::boards(&state, viewer.as_ref(), &member).await?,
            None,
        )
    } else {
        let page = PageRequest {
            cursor: query.cursor,
            limit: Some(20),
        };
        let page = notes::by_author(&state, viewer.as_ref(), &member, &page).await?;
        (page.items, Vec::new(), page.next_cursor)
    };
    let my_stores = match &viewer {
        Some(me) if me.id == member.id => crate::shop::service::stores_of(&state, me).await?,
        _ => Vec::new(),
    };
    let page = ProfilePage {
        my_stores,
        ctx,
        member,
        orgs,
        stats,
        following,
        tab: tab.to_owned(),
        notes,
        boards,
        next_cursor,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "edit_profile.html")]
struct EditProfilePage {
    ctx: PageCtx,
    form: FormState,
    saved: bool,
    /// The zones to choose from, the member's own first when it is not among them.
    zones: Vec<String>,
    site_zone: String,
}

impl EditProfilePage {
    fn new(state: &AppState, ctx: PageCtx, form: FormState, saved: bool) -> EditProfilePage {
        let chosen = form.value("time_zone").to_owned();
        let mut zones: Vec<String> = OFFERED_ZONES.iter().map(|z| (*z).to_owned()).collect();
        if !chosen.is_empty() && !zones.contains(&chosen) {
            zones.insert(0, chosen);
        }
        EditProfilePage {
            ctx,
            form,
            saved,
            zones,
            site_zone: state.config.server.time_zone.name().to_owned(),
        }
    }
}

fn profile_values(user: &User) -> Vec<(&'static str, String)> {
    let zone = user.time_zone.as_ref().map_or("", Zone::name);
    vec![
        ("display_name", user.display_name.clone()),
        ("bio", user.bio.clone()),
        ("time_zone", zone.to_owned()),
    ]
}

async fn edit_profile_page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
) -> AppResult<Response> {
    let form = FormState {
        values: profile_values(&user),
        ..FormState::default()
    };
    render(
        StatusCode::OK,
        &EditProfilePage::new(&state, ctx, form, false),
    )
}

#[derive(Deserialize)]
struct ProfileForm {
    display_name: String,
    bio: String,
    #[serde(default)]
    time_zone: String,
}

async fn edit_profile(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    mut ctx: PageCtx,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    let edit = service::ProfileEdit {
        display_name: Some(&form.display_name),
        bio: Some(&form.bio),
        time_zone: Some(&form.time_zone),
    };
    match service::update_profile(&state, &user, &edit).await {
        Ok(updated) => {
            let form = FormState {
                values: profile_values(&updated),
                ..FormState::default()
            };
            ctx.zone = updated
                .time_zone
                .clone()
                .unwrap_or_else(|| state.config.server.time_zone.clone());
            ctx.user = Some(updated);
            render(
                StatusCode::OK,
                &EditProfilePage::new(&state, ctx, form, true),
            )
        }
        Err(err) => {
            let values = vec![
                ("display_name", form.display_name),
                ("bio", form.bio),
                ("time_zone", form.time_zone),
            ];
            let (status, form) = FormState::refused(values, err)?;
            render(status, &EditProfilePage::new(&state, ctx, form, false))
        }
    }
}
