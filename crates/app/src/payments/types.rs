//! Payments' vocabulary.

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
    /// A refund was asked of the provider, which has not paid it out yet.
    Refunding,
    /// The provider could not pay the refund out; Hongshu owes it to the buyer.
    RefundFailed,
    /// Given back: by an after-sales refund, or because its order no longer wanted it.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunding => "refunding",
            PaymentStatus::RefundFailed => "refund_failed",
            PaymentStatus::Refunded => "refunded",
        }
    }
}

/// Who takes a payment's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Provider {
    /// The demo's and the tests' own provider.
    #[serde(rename = "sandbox")]
    Sandbox,
    #[serde(rename = "alipay")]
    Alipay,
    #[serde(rename = "wechatpay")]
    WechatPay,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Sandbox => "sandbox",
            Provider::Alipay => "alipay",
            Provider::WechatPay => "wechatpay",
        }
    }

    /// As buyers know it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Sandbox => "the sandbox",
            Provider::Alipay => "Alipay",
            Provider::WechatPay => "WeChat Pay",
        }
    }
}

impl store::TextState for Provider {
    const WHAT: &'static str = "payment provider";
    const ALL: &'static [Provider] = &[Provider::Sandbox, Provider::Alipay, Provider::WechatPay];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payment {
    pub id: Id,
    pub order_id: Id,
    pub provider: Provider,
    /// In fen.
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    /// The provider's own reference, once it has one.
    pub provider_ref: String,
    /// Where the buyer goes to pay.
    pub pay_url: String,
    pub created_at: Timestamp,
}

/// Where a provider stands on a refund it was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundProgress {
    /// Paid out to the buyer.
    Done,
    /// Accepted; the provider says when it is paid out.
    Processing,
}

/// What a provider says of a payment when asked, rather than in a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub succeeded: bool,
    pub amount: i64,
    pub currency: String,
    pub provider_ref: String,
}

impl store::TextState for PaymentStatus {
    const WHAT: &'static str = "payment status";
    const ALL: &'static [PaymentStatus] = &[
        PaymentStatus::Pending,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Refunding,
        PaymentStatus::RefundFailed,
        PaymentStatus::Refunded,
    ];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
