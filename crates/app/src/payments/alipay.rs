//! Alipay (open platform, RSA2): the cashier page's address for a payment and refund calls,
//! signed with the merchant's key; Alipay's answers and asynchronous notifications verified with
//! Alipay's public key before anything changes.

use std::collections::{BTreeMap, HashMap};

use kernel::{Id, Timestamp};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::value::RawValue;

use super::keys;
use super::service::{self, Notice};
use super::types::{Payment, Provider, RefundProgress, Settled};
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
        let links = [("notify_url", notify_url), ("return_url", return_url)];
        let params = self.signed_params("alipay.trade.page.pay", &content, &links);
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        format!("{}?{query}", self.gateway)
    }

    /// Gives a payment back: `alipay.trade.refund` under the payment's refund number, so asking
    /// again is the same refund. Alipay refunds at once; when its answer says no money moved (as
    /// for a refund made by an earlier request), the refund query says whether it was made.
    pub async fn refund(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
        reason: &str,
    ) -> AppResult<RefundProgress> {
        let trade = payment.id.as_i64().to_string();
        let request_no = service::refund_number(payment.id);
        let content = serde_json::json!({
            "out_trade_no": trade,
            "out_request_no": request_no,
            "refund_amount": yuan(payment.amount),
            "refund_reason": reason,
        });
        let answer = self.call(client, "alipay.trade.refund", &content).await?;
        if answer["fund_change"] == "Y" {
            return Ok(RefundProgress::Done);
        }
        let query = serde_json::json!({"out_trade_no": trade, "out_request_no": request_no});
        let made = self
            .call(client, "alipay.trade.fastpay.refund.query", &query)
            .await?;
        match made["refund_status"] == "REFUND_SUCCESS" {
            true => Ok(RefundProgress::Done),
            false => Err(AppError::Upstream(
                "Alipay has not confirmed the refund yet; approve it again shortly".into(),
            )),
        }
    }

    /// Asks Alipay how a payment stands (`alipay.trade.query`): settled, or `None` while the
    /// buyer has not paid or never opened the cashier.
    pub async fn query(
        &self,
        client: &reqwest::Client,
        payment: &Payment,
    ) -> AppResult<Option<Settled>> {
        let content = serde_json::json!({"out_trade_no": payment.id.as_i64().to_string()});
        let answer = match self.call(client, "alipay.trade.query", &content).await {
            // ACQ.TRADE_NOT_EXIST: the buyer never opened the cashier.
            Err(AppError::Conflict(..)) => return Ok(None),
            answer => answer?,
        };
        let field = |name: &str| answer[name].as_str().unwrap_or("").to_owned();
        let succeeded = match field("trade_status").as_str() {
            "TRADE_SUCCESS" | "TRADE_FINISHED" => true,
            "TRADE_CLOSED" => false,
            _ => return Ok(None),
        };
        let amount = kernel::money::minor_units(&field("total_amount"))
            .ok_or_else(|| AppError::Upstream("Alipay's total_amount is not an amount".into()))?;
        Ok(Some(Settled {
            succeeded,
            amount,
            currency: "CNY".into(),
            provider_ref: field("trade_no"),
        }))
    }

    /// The public parameters of a call and its business content, signed with the merchant's key.
    fn signed_params(
        &self,
        method: &str,
        content: &serde_json::Value,
        extra: &[(&str, &str)],
    ) -> BTreeMap<String, String> {
        let mut params: BTreeMap<String, String> = [
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("version", "1.0"),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        params.insert("timestamp".into(), beijing_time(Timestamp::now()));
        params.insert("biz_content".into(), content.to_string());
        let signature = keys::sign(&self.key, signed_text(&params, &["sign"]).as_bytes());
        params.insert("sign".into(), signature);
        params
    }

    /// Calls the gateway. The answer counts only once Alipay's signature over its response
    /// object, exactly as sent, verifies; an answer other than success is an error carrying
    /// Alipay's reason.
    async fn call(
        &self,
        client: &reqwest::Client,
        method: &str,
        content: &serde_json::Value,
    ) -> AppResult<serde_json::Value> {
        let params = self.signed_params(method, content, &[]);
        let unreachable = |e: reqwest::Error| AppError::Upstream(format!("Alipay: {e}"));
        let text = client
            .post(&self.gateway)
            .form(&params)
            .send()
            .await
            .map_err(unreachable)?
            .error_for_status()
            .map_err(unreachable)?
            .text()
            .await
            .map_err(unreachable)?;
        let unreadable = || AppError::Upstream("Alipay's answer could not be read".into());
        let envelope: HashMap<String, Box<RawValue>> =
            serde_json::from_str(&text).map_err(|_| unreadable())?;
        let node = format!("{}_response", method.replace('.', "_"));
        let response = envelope.get(&node).ok_or_else(unreadable)?;
        let signature: String = envelope
            .get("sign")
            .and_then(|s| serde_json::from_str(s.get()).ok())
            .unwrap_or_default();
        if !keys::verify(&self.alipay_key, response.get().as_bytes(), &signature) {
            tracing::warn!(method, "refused an Alipay answer with a bad signature");
            return Err(AppError::Upstream(
                "Alipay's answer is not signed by Alipay".into(),
            ));
        }
        let answer: serde_json::Value =
            serde_json::from_str(response.get()).map_err(|_| unreadable())?;
        let field = |name: &str| answer[name].as_str().unwrap_or("").to_owned();
        match field("code").as_str() {
            "10000" => Ok(answer),
            "20000" => Err(AppError::Upstream(format!(
                "Alipay is unavailable: {}",
                field("sub_msg")
            ))),
            code => Err(AppError::Conflict(
                "provider",
                format!(
                    "Alipay refused: {} ({code} {})",
                    field("sub_msg"),
                    field("sub_code")
                ),
            )),
        }
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
            provider: Provider::Alipay,
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
