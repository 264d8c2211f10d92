//! The sandbox provider for the demo and the tests. Its pay page lets the buyer succeed or
//! fail; it then tells the server in a notification signed with HMAC-SHA256, delivered over
//! HTTP and retried until the server answers, as real providers do.

use std::time::Duration;

use hmac::{Hmac, Mac};
use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::service::{self, Notice};
use super::types::Payment;
use crate::accounts::types::User;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The header carrying the hex HMAC-SHA256 of the body.
pub const SIGNATURE: &str = "hongshu-sandbox-signature";
/// Where notifications go.
pub const NOTIFY_PATH: &str = "/api/v1/payments/notify/sandbox";
/// Deliveries of one notification before the sandbox gives up.
const ATTEMPTS: u32 = 6;

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

/// The buyer pays (or fails to) on the sandbox's page: the sandbox notifies the server in the
/// background, as a provider would, and the page shows the payment as it stands.
pub async fn decide(state: &AppState, buyer: &User, id: Id, succeed: bool) -> AppResult<Payment> {
    let payment = service::own_pending(state, buyer, id).await?;
    let notice = SandboxNotice {
        payment_id: payment.id,
        outcome: if succeed { "succeeded" } else { "failed" }.into(),
        amount: payment.amount,
        currency: payment.currency.clone(),
        trade_no: format!("SBX{}", payment.id.as_i64()),
        sent_at: Timestamp::now().as_millis(),
    };
    let body = serde_json::to_vec(&notice).map_err(|e| AppError::Internal(e.into()))?;
    tokio::spawn(deliver(state.clone(), body));
    Ok(payment)
}

/// Posts a notification to this server until it answers 200, backing off between tries.
async fn deliver(state: AppState, body: Vec<u8>) {
    let Some(address) = state.payments.own_address() else {
        tracing::error!("the sandbox cannot notify: the server's address is not known");
        return;
    };
    let url = format!("http://{address}{NOTIFY_PATH}");
    let signature = sign(&state.payments.sandbox_key, &body);
    for attempt in 0..ATTEMPTS {
        let sent = state
            .payments
            .client
            .post(&url)
            .header(SIGNATURE, &signature)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::warn!(status = %response.status(), attempt, "sandbox notification refused")
            }
            Err(e) => tracing::warn!(error = %e, attempt, "sandbox notification not delivered"),
        }
        tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
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
            provider: "sandbox",
            payment: notice.payment_id,
            succeeded,
            amount: notice.amount,
            currency: &notice.currency,
            provider_ref: &notice.trade_no,
        },
    )
    .await
}
