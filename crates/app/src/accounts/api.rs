//! JSON API of accounts under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;
use kernel::{Id, Page, PageRequest, Timestamp, Zone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, TokenInfo};
use super::types::{Role, User};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::cookies;
use crate::web::created;
use crate::web::extract::{presented_token, ApiJson, ApiPath, ApiQuery, AuthUser, ClientAddr};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .routes(routes!(user))
        .routes(routes!(tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_users))
        .routes(routes!(set_role))
}

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    pub handle: String,
    pub display_name: String,
    pub password: String,
}

/// Create an account.
#[utoipa::path(post, path = "/auth/signup", tag = "accounts", request_body = SignupRequest,
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn signup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignupRequest>,
) -> AppResult<Response> {
    let user = service::signup(&state, &req.handle, &req.display_name, &req.password).await?;
    Ok(created(user))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub handle: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A bearer token for `Authorization: Bearer …`; the same session is also set as a cookie.
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// Sign in: returns a bearer token and sets the session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let signed_in = service::login(&state, &req.handle, &req.password, address).await?;
    let cookie = cookies::session_for(&signed_in, state.config.secure_cookies());
    let body = LoginResponse {
        token: signed_in.token,
        expires_at: signed_in.expires_at,
        user: signed_in.user,
    };
    Ok((CookieJar::new().add(cookie), Json(body)).into_response())
}

/// Sign out: ends the session (or revokes the token) the request carries.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    if let Some(token) = presented_token(&headers) {
        service::logout(&state, &token).await?;
    }
    let jar = CookieJar::new().add(cookies::clear_session(state.config.secure_cookies()));
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

/// The signed-in member: their public face and their own settings.
#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    /// The IANA zone their pages show times in; null: the site's zone.
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Zone>,
}

impl From<User> for Me {
    fn from(user: User) -> Me {
        let time_zone = user.time_zone.clone();
        Me { user, time_zone }
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(AuthUser(user): AuthUser) -> Json<Me> {
    Json(user.into())
}

#[derive(Deserialize, ToSchema)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    /// An IANA zone name such as `Asia/Shanghai`; empty: the site's zone.
    pub time_zone: Option<String>,
}

/// Change one's display name, bio or time zone.
#[utoipa::path(patch, path = "/me", tag = "accounts", request_body = ProfileUpdate,
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn update_me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<ProfileUpdate>,
) -> AppResult<Json<Me>> {
    let edit = service::ProfileEdit {
        display_name: req.display_name.as_deref(),
        bio: req.bio.as_deref(),
        time_zone: req.time_zone.as_deref(),
    };
    let updated = service::update_profile(&state, &user, &edit).await?;
    Ok(Json(updated.into()))
}

/// A member's public profile.
#[utoipa::path(get, path = "/users/{handle}", tag = "accounts",
    params(("handle" = String, Path, description = "The member's handle")),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
async fn user(
    State(state): State<AppState>,
    ApiPath(handle): ApiPath<String>,
) -> AppResult<Json<User>> {
    Ok(Json(service::user_by_handle(&state, &handle).await?))
}

/// One's personal API tokens (their secrets are never shown again).
#[utoipa::path(get, path = "/me/tokens", tag = "accounts",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = Problem)))]
async fn tokens(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Vec<TokenInfo>>> {
    Ok(Json(service::personal_tokens(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenRequest {
    /// What the token is for, e.g. "shop sync script".
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenResponse {
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The secret, shown this once.
    pub token: String,
}

/// Make a personal API token.
#[utoipa::path(post, path = "/me/tokens", tag = "accounts", request_body = NewTokenRequest,
    responses((status = 201, body = NewTokenResponse), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<NewTokenRequest>,
) -> AppResult<Response> {
    let (info, token) = service::create_personal_token(&state, &user, &req.name).await?;
    Ok(created(NewTokenResponse { info, token }))
}

/// Revoke a personal API token.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "accounts",
    params(("id" = Id, Path, description = "The token's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    service::revoke_personal_token(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// All members, newest first (administrators).
#[utoipa::path(get, path = "/admin/users", tag = "admin", params(PageRequest),
    responses((status = 200, body = Page<User>), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> AppResult<Json<Page<User>>> {
    Ok(Json(service::list_users(&state, &user, &page).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    pub role: Role,
}

/// Set a member's platform role (administrators).
#[utoipa::path(put, path = "/admin/users/{handle}/role", tag = "admin", request_body = RoleRequest,
    params(("handle" = String, Path, description = "The member's handle")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn set_role(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(handle): ApiPath<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> AppResult<StatusCode> {
    service::set_role(&state, &user, &handle, req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}
