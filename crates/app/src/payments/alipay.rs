//! Alipay (open platform, RSA2): the cashier page's address for a payment, signed with the
//! merchant's key, and asynchronous notifications verified with Alipay's public key before
//! anything changes.

use std::collections::BTreeMap;

use kernel::{Id, Timestamp};
use rsa::{RsaPrivateKey, RsaPublicKey};

use super::keys;
use super::service::{self, Notice};
use super::types::Payment;
use crate::config::AlipayConfig;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

pub struct Alipay {
    app_id: String,
    key: RsaPrivateKey,
    alipay_key: RsaPublicKey,
    gateway: String,
}

impl Alipay {
    /// Alipay when it is configured; a configured key that does not parse is an error.
    pub fn from_config(config: &AlipayConfig) -> anyhow::Result<Option<Alipay>> {
        if config.app_id.is_empty() {
            return Ok(None);
        }
        Ok(Some(Alipay {
            app_id: config.app_id.clone(),
            key: keys::private_key(&config.private_key)?,
            alipay_key: keys::public_key(&config.alipay_public_key)?,
            gateway: match config.gateway.as_str() {
                "" => GATEWAY.to_owned(),
                gateway => gateway.to_owned(),
            },
        }))
    }

    /// Where the buyer pays: `alipay.trade.page.pay` with every parameter signed.
    pub fn pay_url(
        &self,
        payment: &Payment,
        subject: &str,
        notify_url: &str,
        return_url: &str,
    ) -> String {
        let content = serde_json::json!({
            "out_trade_no": payment.id.as_i64().to_string(),
            "total_amount": yuan(payment.amount),
            "subject": subject,
            "product_code": "FAST_INSTANT_TRADE_PAY",
        });
        let mut params: BTreeMap<String, String> = [
            ("app_id", self.app_id.clone()),
            ("method", "alipay.trade.page.pay".into()),
            ("format", "JSON".into()),
            ("charset", "utf-8".into()),
            ("sign_type", "RSA2".into()),
            ("timestamp", beijing_time(Timestamp::now())),
            ("version", "1.0".into()),
            ("notify_url", notify_url.into()),
            ("return_url", return_url.into()),
            ("biz_content", content.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let signature = keys::sign(&self.key, signed_text(&params, &["sign"]).as_bytes());
        params.insert("sign".into(), signature);
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        format!("{}?{query}", self.gateway)
    }
}

/// The text Alipay signs: the fields sorted by name as `name=value` joined by `&`, leaving out
/// `leave_out` and empty values.
pub fn signed_text(fields: &BTreeMap<String, String>, leave_out: &[&str]) -> String {
    fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && !leave_out.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// An amount in fen as Alipay writes it: `123.45`.
fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time, as the gateway expects.
fn beijing_time(at: Timestamp) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(at.as_millis() / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A notification (the form Alipay posts): verified, checked against this merchant, applied.
pub async fn receive(state: &AppState, body: &[u8]) -> AppResult<()> {
    let alipay = state
        .payments
        .alipay
        .as_ref()
        .ok_or(AppError::NotFound("payment provider"))?;
    let fields: BTreeMap<String, String> = serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("the notification could not be read: {e}")))?;
    let signature = fields.get("sign").map_or("", String::as_str);
    let text = signed_text(&fields, &["sign", "sign_type"]);
    if !keys::verify(&alipay.alipay_key, text.as_bytes(), signature) {
        tracing::warn!("refused an Alipay notification with a bad signature");
        return Err(AppError::BadRequest("the signature does not verify".into()));
    }
    let field = |name: &str| fields.get(name).map_or("", String::as_str);
    if field("app_id") != alipay.app_id {
        return Err(AppError::BadRequest(
            "the notification is for another app".into(),
        ));
    }
    let succeeded = match field("trade_status") {
        "TRADE_SUCCESS" | "TRADE_FINISHED" => true,
        "TRADE_CLOSED" => false,
        // Waiting for the buyer: nothing to do yet.
        _ => return Ok(()),
    };
    let payment = field("out_trade_no")
        .parse::<i64>()
        .map(Id::from_i64)
        .map_err(|_| AppError::BadRequest("out_trade_no is not one of ours".into()))?;
    let amount = kernel::money::minor_units(field("total_amount"))
        .ok_or_else(|| AppError::BadRequest("total_amount is not an amount".into()))?;
    service::apply(
        state,
        &Notice {
            provider: "alipay",
            payment,
            succeeded,
            amount,
            currency: "CNY",
            provider_ref: field("trade_no"),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_two_decimals() {
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn the_signed_text_is_sorted_without_the_signature_and_empty_values() {
        let fields: BTreeMap<String, String> = [("b", "2"), ("a", "1"), ("sign", "x"), ("c", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(signed_text(&fields, &["sign"]), "a=1&b=2");
    }
}
