//! The sandbox provider for the demo and the tests. Its pay page lets the buyer succeed or
//! fail; it then tells the server in a notification signed with HMAC-SHA256, kept in the
//! database and delivered over HTTP until the server takes it, as real providers do.

use std::time::Duration;

use hmac::{Hmac, Mac};
use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::service::{self, Notice};
use super::store;
use super::types::{Payment, Provider};
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The header carrying the hex HMAC-SHA256 of the body.
pub const SIGNATURE: &str = "hongshu-sandbox-signature";
/// Where notifications go.
pub const NOTIFY_PATH: &str = "/api/v1/payments/notify/sandbox";

/// The notification's body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxNotice {
    pub payment_id: Id,
    /// `succeeded` or `failed`.
    pub outcome: String,
    pub amount: i64,
    pub currency: String,
    pub trade_no: String,
    /// Unix milliseconds.
    pub sent_at: i64,
}

pub fn sign(key: &[u8], body: &[u8]) -> String {
    hex::encode(mac(key, body).finalize().into_bytes())
}

fn mac(key: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

/// Checks the signature in constant time.
pub fn verify(key: &[u8], body: &[u8], signature: &str) -> bool {
    match hex::decode(signature.trim()) {
        Ok(bytes) => mac(key, body).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// The buyer pays (or fails to) on the sandbox's page: the sandbox keeps its notification in
/// the database and delivers it in the background, as a provider would, and the page shows
/// the payment as it stands. The buyer's first decision is the one kept.
pub async fn decide(state: &AppState, buyer: &User, id: Id, succeed: bool) -> AppResult<Payment> {
    let payment = service::own_pending(state, buyer, id).await?;
    let now = Timestamp::now();
    let notice = SandboxNotice {
        payment_id: payment.id,
        outcome: if succeed { "succeeded" } else { "failed" }.into(),
        amount: payment.amount,
        currency: payment.currency.clone(),
        trade_no: format!("SBX{}", payment.id.as_i64()),
        sent_at: now.as_millis(),
    };
    let body = serde_json::to_string(&notice).map_err(|e| AppError::Internal(e.into()))?;
    store::keep_sandbox_notice(&state.db, payment.id, &body, now).await?;
    state.payments.sandbox_due.notify_one();
    Ok(payment)
}

/// Delivers the sandbox's kept notifications until the server stops: woken when one is kept,
/// and every second for retries and for those a restart interrupted.
pub async fn keep_delivering(state: AppState) {
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "the sandbox could not deliver its notifications");
        }
        tokio::select! {
            _ = state.payments.sandbox_due.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Posts each notification that is due to this server; one that is not taken is tried again
/// later, backing off up to a minute between tries.
async fn deliver_due(state: &AppState) -> AppResult<()> {
    let Some(address) = state.payments.own_address() else {
        return Ok(());
    };
    let url = format!("http://{address}{NOTIFY_PATH}");
    for due in store::due_sandbox_notices(&state.db, Timestamp::now(), 50).await? {
        let now = Timestamp::now();
        if post(state, &url, due.body.as_bytes()).await {
            store::sandbox_notice_delivered(&state.db, due.payment, now).await?;
        } else {
            let wait = (200_i64 << due.attempts.min(9)).min(MAX_BACKOFF_MS);
            let next = Timestamp::from_millis(now.as_millis() + wait);
            store::sandbox_notice_retry(&state.db, due.payment, due.attempts + 1, next).await?;
        }
    }
    Ok(())
}

/// The longest wait between two deliveries of one notification.
const MAX_BACKOFF_MS: i64 = 60_000;

/// One delivery; true when the server took it.
async fn post(state: &AppState, url: &str, body: &[u8]) -> bool {
    let signature = sign(&state.payments.sandbox_key, body);
    let sent = state
        .payments
        .client
        .post(url)
        .header(SIGNATURE, &signature)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(status = %response.status(), "sandbox notification refused");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "sandbox notification not delivered");
            false
        }
    }
}

/// A notification as received: verified, then applied. A bad signature changes nothing.
pub async fn receive(state: &AppState, signature: Option<&str>, body: &[u8]) -> AppResult<()> {
    let verified = signature.is_some_and(|s| verify(&state.payments.sandbox_key, body, s));
    if !verified {
        tracing::warn!("refused a sandbox notification with a bad signature");
        return Err(AppError::BadRequest("the signature does not verify".into()));
    }
    let notice: SandboxNotice = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the notification could not be read: {e}")))?;
    let succeeded = match notice.outcome.as_str() {
        "succeeded" => true,
        "failed" => false,
        _ => return Err(AppError::BadRequest("unknown outcome".into())),
    };
    service::apply(
        state,
        &Notice {
            provider: Provider::Sandbox,
            payment: notice.payment_id,
            succeeded,
            amount: notice.amount,
            currency: &notice.currency,
            provider_ref: &notice.trade_no,
        },
    )
    .await
}
