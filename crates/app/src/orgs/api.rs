//! JSON API of organisations under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use super::types::{Member, Org, StaffRole};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, AuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_org))
        .routes(routes!(org))
        .routes(routes!(my_orgs))
        .routes(routes!(members))
        .routes(routes!(put_member, remove_member))
        .routes(routes!(set_verified))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrg {
    pub slug: String,
    pub name: String,
}

/// Create an organisation; the caller becomes its owner.
#[utoipa::path(post, path = "/orgs", tag = "orgs", request_body = NewOrg,
    responses((status = 201, body = Org), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_org(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<NewOrg>,
) -> AppResult<Response> {
    let org = service::create(&state, &user, &req.slug, &req.name).await?;
    Ok(created(org))
}

/// An organisation's public card.
#[utoipa::path(get, path = "/orgs/{slug}", tag = "orgs",
    params(("slug" = String, Path, description = "The organisation's slug")),
    responses((status = 200, body = Org), (status = 404, body = Problem)))]
async fn org(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<Org>> {
    Ok(Json(service::by_slug(&state, &slug).await?))
}

/// The organisations the caller works for.
#[utoipa::path(get, path = "/me/orgs", tag = "orgs",
    responses((status = 200, body = Vec<Org>), (status = 401, body = Problem)))]
async fn my_orgs(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Vec<Org>>> {
    Ok(Json(service::orgs_of(&state, &user).await?))
}

/// The organisation's staff (staff and administrators only).
#[utoipa::path(get, path = "/orgs/{slug}/members", tag = "orgs",
    params(("slug" = String, Path, description = "The organisation's slug")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn members(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<Vec<Member>>> {
    let org = service::by_slug(&state, &slug).await?;
    Ok(Json(service::members(&state, &user, &org).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MemberRole {
    pub role: StaffRole,
}

/// Add a member or change their role (owners).
#[utoipa::path(put, path = "/orgs/{slug}/members/{handle}", tag = "orgs", request_body = MemberRole,
    params(("slug" = String, Path, description = "The organisation's slug"),
        ("handle" = String, Path, description = "The member's handle")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn put_member(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((slug, handle)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<MemberRole>,
) -> AppResult<StatusCode> {
    let org = service::by_slug(&state, &slug).await?;
    service::put_member(&state, &user, &org, &handle, req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member (owners), or leave (oneself).
#[utoipa::path(delete, path = "/orgs/{slug}/members/{handle}", tag = "orgs",
    params(("slug" = String, Path, description = "The organisation's slug"),
        ("handle" = String, Path, description = "The member's handle")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn remove_member(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath((slug, handle)): ApiPath<(String, String)>,
) -> AppResult<StatusCode> {
    let org = service::by_slug(&state, &slug).await?;
    service::remove_member(&state, &user, &org, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Verification {
    pub verified: bool,
}

/// Grant or withdraw the official badge (administrators).
#[utoipa::path(put, path = "/admin/orgs/{slug}/verified", tag = "admin", request_body = Verification,
    params(("slug" = String, Path, description = "The organisation's slug")),
    responses((status = 200, body = Org), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn set_verified(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<Verification>,
) -> AppResult<Json<Org>> {
    let org = service::by_slug(&state, &slug).await?;
    Ok(Json(
        service::set_verified(&state, &user, &org, req.verified).await?,
    ))
}
