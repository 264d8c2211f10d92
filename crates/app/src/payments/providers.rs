//! The one interface the payments service has to a provider, whichever it is: where the buyer
//! pays, giving money back, and asking how a payment stands. The provider modules (`sandbox`,
//! `alipay`, `wechatpay`) speak their provider's protocol — signing, parsing and verifying —
//! and the service applies what they learnt.

use super::alipay::Alipay;
use super::service::{notify_url, pay_url};
use super::types::{Payment, Provider, RefundProgress, Settled};
use super::wechatpay::WechatPay;
use crate::error::AppResult;
use crate::orders::types::Order;
use crate::state::AppState;

/// A provider configured here ([`super::service::Payments::adapter`]).
pub enum Adapter<'a> {
    Sandbox,
    Alipay(&'a Alipay),
    WechatPay(&'a WechatPay),
}

impl Adapter<'_> {
    fn provider(&self) -> Provider {
        match self {
            Adapter::Sandbox => Provider::Sandbox,
            Adapter::Alipay(_) => Provider::Alipay,
            Adapter::WechatPay(_) => Provider::WechatPay,
        }
    }

    /// Where the buyer goes to pay for `order` with the new `payment`.
    pub async fn pay_url(
        &self,
        state: &AppState,
        payment: &Payment,
        order: &Order,
    ) -> AppResult<String> {
        let notify = notify_url(state, self.provider());
        let subject = match order.items.as_slice() {
            [one] => one.title.clone(),
            [first, ..] => format!("{} and {} more", first.title, order.items.len() - 1),
            [] => order.store_name.clone(),
        };
        match self {
            Adapter::Sandbox => Ok(pay_url(Provider::Sandbox, payment.id)),
            Adapter::Alipay(alipay) => {
                let site = state.config.server.public_url.trim_end_matches('/');
                let back = format!("{site}{}", super::service::return_path(payment));
                Ok(alipay.pay_url(payment, &subject, &notify, &back))
            }
            Adapter::WechatPay(wechat) => {
                let client = &state.payments.client;
                wechat.native_pay(client, payment, &subject, &notify).await
            }
        }
    }

    /// Asks the provider to give the payment's money back to the buyer.
    pub async fn refund(
        &self,
        state: &AppState,
        payment: &Payment,
        reason: &str,
    ) -> AppResult<RefundProgress> {
        let client = &state.payments.client;
        match self {
            Adapter::Sandbox => Ok(RefundProgress::Done),
            Adapter::Alipay(alipay) => alipay.refund(client, payment, reason).await,
            Adapter::WechatPay(wechat) => {
                let notify = notify_url(state, Provider::WechatPay);
                wechat.refund(client, payment, reason, &notify).await
            }
        }
    }

    /// How the provider says a payment stands: settled, or `None` while undecided (the sandbox
    /// is never asked: its notifications are kept until delivered).
    pub async fn query(&self, state: &AppState, payment: &Payment) -> AppResult<Option<Settled>> {
        let client = &state.payments.client;
        match self {
            Adapter::Sandbox => Ok(None),
            Adapter::Alipay(alipay) => alipay.query(client, payment).await,
            Adapter::WechatPay(wechat) => wechat.query(client, payment).await,
        }
    }
}
