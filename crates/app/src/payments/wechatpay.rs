//! WeChat Pay, API v3: requests signed with SHA256-RSA in the `Authorization` header; Native pay
//! (a QR code's address) and refunds; answers and notifications verified with the platform's
//! public key and fresh, and notifications' resources decrypted with AES-256-GCM under the API
//! v3 key, before anything changes.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kernel::{Id, Timestamp};
use reqwest::Method;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Deserialize;

use super::keys;
use super::service::{self, Notice};
use super::types::{Payment, Provider, RefundProgress, Settled};
use crate::config::WechatPayConfig;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const API_BASE: &str = "https://api.mch.weixin.qq.com";
/// Notifications older or newer than this are refused (replays).
const FRESH_SECONDS: i64 = 300;

pub struct WechatPay {
    mch_id: String,
    app_id: String,
    serial_no: String,
    key: RsaPrivateKey,
    platform_key: RsaPublicKey,
    apiv3_key: Vec<u8>,
    api_base: String,
}

impl WechatPay {
    /// WeChat Pay when it is configured; a configured key that does not parse is an error.
    pub fn from_config(config: &WechatPayConfig) -> anyhow::Result<Option<WechatPay>> {
        if config.mch_id.is_empty() {
            return Ok(None);
        }
        anyhow::ensure!(
            config.apiv3_key.len() == 32,
            "the API v3 key must be 32 bytes"
        );
        Ok(Some(WechatPay {
            mch_id: config.mch_id.clone(),
            app_id: config.app_id.clone(),
            serial_no: config.serial_no.clone(),
            key: keys::private_key(&config.private_key)?,
            platform_key: keys::public_key(&config.platform_public_key)?,
            apiv3_key: config.apiv3_key.as_bytes().to_vec(),
            api_base: match config.api_base.as_str() {
                "" => API_BASE.to_owned(),
                base => base.trim_end_matches('/').to_owned(),
            },
        }))
    }

    /// The `Authorization` header of a request: method, path, time, nonce and body signed.
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        body: &str,
        at: i64,
        nonce: &str,
    ) -> String {
        let message = format!("{method}\n{path}\n{at}\n{nonce}\n{body}\n");
        let signature = keys::sign(&self.key, message.as_bytes());
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",\
             timestamp=\"{at}\",serial_no=\"{}\"",
            self.mch_id, self.serial_no
        )
    }

    /// Native pay: asks WeChat Pay for the address the buyer's QR code holds.
    pub async fn native_pay(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
        description: &str,
        notify_url: &str,
    ) -> AppResult<String> {
        let body = serde_json::json!({
            "appid": self.app_id,
            "mchid": self.mch_id,
            "description": description,
            "out_trade_no": payment.id.as_i64().to_string(),
            "notify_url": notify_url,
            "amount": {"total": payment.amount, "currency": payment.currency},
        });
        let answer = self
            .call(
                client,
                Method::POST,
                "/v3/pay/transactions/native",
                Some(&body),
            )
            .await?;
        answer["code_url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| AppError::Upstream("WeChat Pay answered without a code_url".into()))
    }

    /// Gives a payment back under its refund number, so asking again is the same refund.
    /// WeChat Pay usually answers that it is processing, and notifies when it is paid out.
    pub async fn refund(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
        reason: &str,
        notify_url: &str,
    ) -> AppResult<RefundProgress> {
        let body = serde_json::json!({
            "out_trade_no": payment.id.as_i64().to_string(),
            "out_refund_no": service::refund_number(payment.id),
            "reason": reason,
            "notify_url": notify_url,
            "amount": {"refund": payment.amount, "total": payment.amount, "currency": payment.currency},
        });
        let answer = self
            .call(
                client,
                Method::POST,
                "/v3/refund/domestic/refunds",
                Some(&body),
            )
            .await?;
        refund_progress(&answer)
    }

    /// Asks WeChat Pay how a payment stands: settled, or `None` while the buyer has not paid
    /// (or never scanned the code).
    pub async fn query(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
    ) -> AppResult<Option<Settled>> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            payment.id.as_i64(),
            self.mch_id
        );
        let deal: Transaction = match self.call(client, Method::GET, &path, None).await {
            // ORDER_NOT_EXIST: never scanned.
            Err(AppError::Conflict(..)) => return Ok(None),
            answer => serde_json::from_value(answer?).map_err(|_| {
                AppError::Upstream("WeChat Pay's transaction could not be read".into())
            })?,
        };
        let succeeded = match deal.trade_state.as_str() {
            "SUCCESS" => true,
            "CLOSED" | "PAYERROR" | "REVOKED" => false,
            _ => return Ok(None),
        };
        Ok(Some(Settled {
            succeeded,
            amount: deal.amount.total,
            currency: deal.amount.currency,
            provider_ref: deal.transaction_id,
        }))
    }

    /// Where a refund WeChat Pay was processing stands: paid out (`Done`), still processing,
    /// or failed (an error naming its status).
    pub async fn refund_status(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
    ) -> AppResult<RefundProgress> {
        let path = format!(
            "/v3/refund/domestic/refunds/{}",
            service::refund_number(payment.id)
        );
        let answer = self.call(client, Method::GET, &path, None).await?;
        refund_progress(&answer)
    }

    /// A signed request to the API. The answer counts only once the platform's signature over
    /// it verifies; a refusal is an error carrying WeChat Pay's reason.
    async fn call(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> AppResult<serde_json::Value> {
        let body = body.map_or_else(String::new, |b| b.to_string());
        let nonce = crate::accounts::service::random_secret();
        let at = Timestamp::now().as_millis() / 1000;
        let unreachable = |e: reqwest::Error| AppError::Upstream(format!("WeChat Pay: {e}"));
        let signature = self.authorization(method.as_str(), path, &body, at, &nonce);
        let mut request = client
            .request(method, format!("{}{path}", self.api_base))
            .header("Authorization", signature)
            .header("Accept", "application/json");
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(unreachable)?;
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.bytes().await.map_err(unreachable)?;
        if let Err(reason) = self.verify_signed(&headers, &text) {
            tracing::warn!(path, reason, "refused a WeChat Pay answer");
            return Err(AppError::Upstream(format!("WeChat Pay's answer {reason}")));
        }
        let answer: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|_| AppError::Upstream("WeChat Pay's answer could not be read".into()))?;
        let said = |name: &str| answer[name].as_str().unwrap_or("").to_owned();
        match status.as_u16() {
            200..=299 => Ok(answer),
            400..=499 => Err(AppError::Conflict(
                "provider",
                format!("WeChat Pay refused: {} ({})", said("message"), said("code")),
            )),
            _ => Err(AppError::Upstream(format!(
                "WeChat Pay is unavailable: {}",
                said("message")
            ))),
        }
    }

    /// Checks what the platform signs, its notifications and its answers alike: the signature
    /// over `timestamp\nnonce\nbody\n` with the platform key, and a fresh timestamp.
    fn verify_signed(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let (at, nonce) = (header("wechatpay-timestamp"), header("wechatpay-nonce"));
        let mut message = format!("{at}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        if !keys::verify(&self.platform_key, &message, header("wechatpay-signature")) {
            return Err("is not signed by the platform");
        }
        let now = Timestamp::now().as_millis() / 1000;
        if at
            .parse::<i64>()
            .map_or(true, |at| (now - at).abs() > FRESH_SECONDS)
        {
            return Err("is not fresh");
        }
        Ok(())
    }

    /// Decrypts a notification's resource.
    fn decrypt(&self, resource: &Resource) -> Option<Vec<u8>> {
        let cipher = Aes256Gcm::new_from_slice(&self.apiv3_key).ok()?;
        let ciphertext = STANDARD.decode(&resource.ciphertext).ok()?;
        if resource.nonce.len() != 12 {
            return None;
        }
        let payload = Payload {
            msg: &ciphertext,
            aad: resource.associated_data.as_bytes(),
        };
        cipher
            .decrypt(Nonce::from_slice(resource.nonce.as_bytes()), payload)
            .ok()
    }
}

/// A refund's status as WeChat Pay reports it.
fn refund_progress(answer: &serde_json::Value) -> AppResult<RefundProgress> {
    match answer["status"].as_str().unwrap_or("") {
        "SUCCESS" => Ok(RefundProgress::Done),
        "PROCESSING" => Ok(RefundProgress::Processing),
        status => Err(AppError::Conflict(
            "provider",
            format!("WeChat Pay did not pay the refund out: {status}"),
        )),
    }
}

#[derive(Deserialize)]
struct Envelope {
    event_type: String,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

#[derive(Deserialize)]
struct Transaction {
    mchid: String,
    out_trade_no: String,
    #[serde(default)]
    transaction_id: String,
    trade_state: String,
    amount: Amount,
}

#[derive(Deserialize)]
struct Amount {
    total: i64,
    currency: String,
}

#[derive(Deserialize)]
struct RefundNotice {
    mchid: String,
    out_refund_no: String,
    refund_status: String,
    amount: RefundAmount,
}

#[derive(Deserialize)]
struct RefundAmount {
    refund: i64,
}

/// A notification, of a payment or of a refund: its signature and time checked, its resource
/// decrypted and checked against this merchant, then applied.
pub async fn receive(state: &AppState, headers: &HeaderMap, body: &[u8]) -> AppResult<()> {
    let wechat = state
        .payments
        .wechatpay
        .as_ref()
        .ok_or(AppError::NotFound("payment provider"))?;
    if let Err(reason) = wechat.verify_signed(headers, body) {
        tracing::warn!(reason, "refused a WeChat Pay notification");
        return Err(AppError::BadRequest(format!("the notification {reason}")));
    }
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the notification could not be read: {e}")))?;
    if envelope.resource.algorithm != "AEAD_AES_256_GCM" {
        return Err(AppError::BadRequest("unknown resource algorithm".into()));
    }
    let plain = wechat
        .decrypt(&envelope.resource)
        .ok_or_else(|| AppError::BadRequest("the resource does not decrypt".into()))?;
    let unreadable =
        |e: serde_json::Error| AppError::BadRequest(format!("the resource could not be read: {e}"));
    let other_merchant = || AppError::BadRequest("the notification is for another merchant".into());
    if let Some(outcome) = envelope.event_type.strip_prefix("REFUND.") {
        let refund: RefundNotice = serde_json::from_slice(&plain).map_err(unreadable)?;
        if refund.mchid != wechat.mch_id {
            return Err(other_merchant());
        }
        let payment = refund
            .out_refund_no
            .strip_prefix('R')
            .and_then(|id| id.parse::<i64>().ok())
            .map(Id::from_i64)
            .ok_or_else(|| AppError::BadRequest("out_refund_no is not one of ours".into()))?;
        let succeeded = outcome == "SUCCESS" && refund.refund_status == "SUCCESS";
        return service::refund_settled(
            state,
            Provider::WechatPay,
            payment,
            refund.amount.refund,
            succeeded,
        )
        .await;
    }
    let deal: Transaction = serde_json::from_slice(&plain).map_err(unreadable)?;
    if deal.mchid != wechat.mch_id {
        return Err(other_merchant());
    }
    let succeeded = match (envelope.event_type.as_str(), deal.trade_state.as_str()) {
        ("TRANSACTION.SUCCESS", "SUCCESS") => true,
        (_, "CLOSED" | "PAYERROR" | "REVOKED") => false,
        _ => return Ok(()),
    };
    let payment = deal
        .out_trade_no
        .parse::<i64>()
        .map(Id::from_i64)
        .map_err(|_| AppError::BadRequest("out_trade_no is not one of ours".into()))?;
    service::apply(
        state,
        &Notice {
            provider: Provider::WechatPay,
            payment,
            succeeded,
            amount: deal.amount.total,
            currency: &deal.amount.currency,
            provider_ref: &deal.transaction_id,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    use super::*;

    #[test]
    fn requests_carry_a_signature_the_merchant_key_verifies() {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let config = WechatPayConfig {
            mch_id: "1900000001".into(),
            app_id: "wx0000000000000001".into(),
            serial_no: "5157F09EFDC096DE15EBE81A47057A72".into(),
            private_key: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            platform_public_key: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            apiv3_key: "0123456789abcdef0123456789abcdef".into(),
            api_base: String::new(),
        };
        let wechat = WechatPay::from_config(&config).unwrap().unwrap();
        let header = wechat.authorization(
            "POST",
            "/v3/pay/transactions/native",
            "{}",
            1_700_000_000,
            "n0nce",
        );
        assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\""));
        let signature = header
            .split("signature=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let message = "POST\n/v3/pay/transactions/native\n1700000000\nn0nce\n{}\n";
        assert!(keys::verify(
            &key.to_public_key(),
            message.as_bytes(),
            signature
        ));
        assert!(!keys::verify(
            &key.to_public_key(),
            b"GET\n/\n1\nx\n\n",
            signature
        ));
    }
}
