//! The sandbox provider's pay page: what a real provider's checkout page would be.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use kernel::Id;
use serde::Deserialize;

use super::types::Payment;
use super::{sandbox, service};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::extract::{ApiPath, AuthUser, CsrfForm};
use crate::web::pages::{render, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new().route("/pay/sandbox/{id}", get(pay_page).post(decide))
}

#[derive(Template)]
#[template(path = "pay_sandbox.html")]
struct PayPage {
    ctx: PageCtx,
    payment: Payment,
}

async fn pay_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Response> {
    let payment = service::own_pending(&state, &user, id).await?;
    render(StatusCode::OK, &PayPage { ctx, payment })
}

#[derive(Deserialize)]
struct Decision {
    outcome: String,
}

/// The buyer pays or fails; the sandbox notifies the server and the buyer returns to the order.
async fn decide(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<Decision>,
) -> AppResult<Response> {
    let payment = sandbox::decide(&state, &user, id, form.outcome == "succeed").await?;
    Ok(Redirect::to(&service::return_path(&payment)).into_response())
}
