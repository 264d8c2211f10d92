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
use crate::error::{AppError, AppResult, FieldError};
use crate::orgs::types::Org;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::extract::{presented_token, ApiPath, ApiQuery, AuthUser, ClientAddr, CsrfForm};
use crate::web::pages::{local_path, render, PageCtx};

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

/// What a form shows again after a refused submission: the values typed and what was wrong.
#[derive(Default)]
pub struct FormState {
    pub values: Vec<(&'static str, String)>,
    pub errors: Vec<FieldError>,
    /// An error about the whole form, such as wrong credentials.
    pub message: Option<String>,
}

impl FormState {
    pub fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.detail.as_str())
    }

    /// The refused form again, or the error itself when it is not the caller's to correct.
    fn refused(
        values: Vec<(&'static str, String)>,
        err: AppError,
    ) -> Result<(StatusCode, FormState), AppError> {
        let status = err.status();
        let (errors, message) = match err {
            AppError::Validation(errors) => (errors, None),
            AppError::Conflict(field, detail) => (vec![FieldError::new(field, detail)], None),
            AppError::BadCredentials | AppError::TooManyRequests(_) => {
                (Vec::new(), Some(err.to_string()))
            }
            other => return Err(other),
        };
        Ok((
            status,
            FormState {
                values,
                errors,
                message,
            },
        ))
    }
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
    joined: String,
    /// The organisations the member works for, with their official badges.
    orgs: Vec<Org>,
}

impl ProfilePage {
    fn is_me(&self) -> bool {
        self.ctx
            .user
            .as_ref()
            .is_some_and(|me| me.id == self.member.id)
    }
}

async fn profile(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(handle): ApiPath<String>,
) -> AppResult<Response> {
    let member = service::user_by_handle(&state, &handle).await?;
    let joined = member.created_at.to_rfc3339().chars().take(10).collect();
    let orgs = crate::orgs::service::orgs_of(&state, &member).await?;
    let page = ProfilePage {
        ctx,
        member,
        joined,
        orgs,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "edit_profile.html")]
struct EditProfilePage {
    ctx: PageCtx,
    form: FormState,
    saved: bool,
}

async fn edit_profile_page(AuthUser(user): AuthUser, ctx: PageCtx) -> AppResult<Response> {
    let form = FormState {
        values: vec![("display_name", user.display_name), ("bio", user.bio)],
        ..FormState::default()
    };
    render(
        StatusCode::OK,
        &EditProfilePage {
            ctx,
            form,
            saved: false,
        },
    )
}

#[derive(Deserialize)]
struct ProfileForm {
    display_name: String,
    bio: String,
}

async fn edit_profile(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    mut ctx: PageCtx,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    match service::update_profile(&state, &user, Some(&form.display_name), Some(&form.bio)).await {
        Ok(updated) => {
            let form = FormState {
                values: vec![
                    ("display_name", updated.display_name.clone()),
                    ("bio", updated.bio.clone()),
                ],
                ..FormState::default()
            };
            ctx.user = Some(updated);
            render(
                StatusCode::OK,
                &EditProfilePage {
                    ctx,
                    form,
                    saved: true,
                },
            )
        }
        Err(err) => {
            let (status, form) = FormState::refused(
                vec![("display_name", form.display_name), ("bio", form.bio)],
                err,
            )?;
            render(
                status,
                &EditProfilePage {
                    ctx,
                    form,
                    saved: false,
                },
            )
        }
    }
}
