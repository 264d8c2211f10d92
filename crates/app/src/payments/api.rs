//! JSON API of payments under `/api/v1`, and the providers' notification endpoints.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use kernel::Id;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::types::Payment;
use super::{alipay, sandbox, service, wechatpay};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::created;
use crate::web::extract::{ApiJson, ApiPath, AuthUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_payment))
        .routes(routes!(get_payment))
        .routes(routes!(sandbox_decide))
        .routes(routes!(sandbox_notify))
        .routes(routes!(alipay_notify))
        .routes(routes!(wechatpay_notify))
        .routes(routes!(refunds_owed))
        .routes(routes!(refunded_by_hand))
}

/// Refunds a provider could not pay out, which Hongshu owes the buyers (admins only).
#[utoipa::path(get, path = "/admin/refunds-owed", tag = "admin",
    responses((status = 200, body = Vec<Payment>), (status = 403, body = Problem)))]
async fn refunds_owed(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> AppResult<Json<Vec<Payment>>> {
    Ok(Json(service::refunds_owed(&state, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ByHand {
    /// What identifies the payment made by hand, such as the provider console's refund number.
    pub reference: String,
}

/// Record that a failed refund was paid by other means (admins only); the payment becomes
/// refunded and the money leaves refunds payable.
#[utoipa::path(post, path = "/admin/payments/{id}/refunded-by-hand", tag = "admin", request_body = ByHand,
    params(("id" = Id, Path, description = "The payment's id")),
    responses((status = 200, body = Payment), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn refunded_by_hand(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<ByHand>,
) -> AppResult<Json<Payment>> {
    Ok(Json(
        service::refunded_by_hand(&state, &user, id, &req.reference).await?,
    ))
}

/// Alipay's asynchronous notification (a signed form). Answered `success` once applied, as
/// Alipay expects; a bad signature changes nothing (400).
#[utoipa::path(post, path = "/payments/notify/alipay", tag = "payments",
    responses((status = 200, body = String), (status = 400, body = Problem)))]
async fn alipay_notify(State(state): State<AppState>, body: Bytes) -> AppResult<&'static str> {
    alipay::receive(&state, &body).await?;
    Ok("success")
}

/// WeChat Pay's notification (API v3: signed headers, an encrypted resource). A bad signature,
/// a stale one or a resource that does not decrypt changes nothing (400).
#[utoipa::path(post, path = "/payments/notify/wechatpay", tag = "payments",
    responses((status = 204), (status = 400, body = Problem)))]
async fn wechatpay_notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<StatusCode> {
    wechatpay::receive(&state, &headers, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PaymentRequest {
    /// `sandbox`, or `alipay` or `wechatpay` when configured.
    pub provider: String,
}

/// Start paying for one's order; the buyer then goes to `pay_url`.
#[utoipa::path(post, path = "/orders/{id}/payments", tag = "payments", request_body = PaymentRequest,
    params(("id" = Id, Path, description = "The order's id")),
    responses((status = 201, body = Payment), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn start_payment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<PaymentRequest>,
) -> AppResult<Response> {
    Ok(created(
        service::start(&state, &user, id, &req.provider).await?,
    ))
}

/// A payment (its order's buyer only).
#[utoipa::path(get, path = "/payments/{id}", tag = "payments",
    params(("id" = Id, Path, description = "The payment's id")),
    responses((status = 200, body = Payment), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_payment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Payment>> {
    Ok(Json(service::payment(&state, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SandboxDecision {
    /// `succeed` or `fail`.
    pub outcome: SandboxOutcome,
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum SandboxOutcome {
    Succeed,
    Fail,
}

/// The sandbox provider's pay button: it notifies the server in the background (202).
#[utoipa::path(post, path = "/payments/{id}/sandbox", tag = "payments", request_body = SandboxDecision,
    params(("id" = Id, Path, description = "The payment's id")),
    responses((status = 202, body = Payment), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn sandbox_decide(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(req): ApiJson<SandboxDecision>,
) -> AppResult<(StatusCode, Json<Payment>)> {
    let succeed = matches!(req.outcome, SandboxOutcome::Succeed);
    let payment = sandbox::decide(&state, &user, id, succeed).await?;
    Ok((StatusCode::ACCEPTED, Json(payment)))
}

/// The sandbox provider's asynchronous notification, signed in the `Hongshu-Sandbox-Signature`
/// header. Applied once however often it is delivered; a bad signature changes nothing (400).
#[utoipa::path(post, path = "/payments/notify/sandbox", tag = "payments",
    responses((status = 204), (status = 400, body = Problem)))]
async fn sandbox_notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<StatusCode> {
    let signature = headers
        .get(sandbox::SIGNATURE)
        .and_then(|v| v.to_str().ok());
    sandbox::receive(&state, signature, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
