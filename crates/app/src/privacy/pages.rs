//! The settings page's part of privacy: download one's archive, delete one's account.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::api::archive_download;
use super::service;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::extract::{AuthUser, CsrfForm};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/archive", get(archive))
        .route("/settings/delete-account", post(delete_account))
}

async fn archive(State(state): State<AppState>, AuthUser(user): AuthUser) -> AppResult<Response> {
    archive_download(&state, &user).await
}

#[derive(Deserialize)]
struct DeleteForm {
    password: String,
}

/// Deletes the account and signs the browser out, to the home page.
async fn delete_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> AppResult<Response> {
    service::delete_account(&state, &user, &form.password).await?;
    let jar = CookieJar::new().add(cookies::clear_session(state.config.secure_cookies()));
    Ok((jar, Redirect::to("/")).into_response())
}
