//! The rules of paying: starting a payment for one's own order, and applying a provider's
//! verified notification exactly once, to the order and to the ledger.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context;

use kernel::{Id, Timestamp};

use super::alipay::Alipay;
use super::providers::Adapter;
use super::store;
use super::types::{Payment, PaymentStatus, Provider, RefundProgress};
use super::wechatpay::WechatPay;
use crate::accounts::service::require_admin;
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::config::MallConfig;
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::postings;
use crate::orders::service::{self as orders, Party};
use crate::orders::store as order_store;
use crate::orders::types::{Happening, Order, OrderStatus};
use crate::state::AppState;

/// What the payment providers need at run time.
pub struct Payments {
    /// Signs and verifies the sandbox's notifications.
    pub sandbox_key: Vec<u8>,
    /// Where this server listens, for the sandbox's notifications to reach it.
    own_address: OnceLock<SocketAddr>,
    pub client: reqwest::Client,
    pub alipay: Option<Alipay>,
    pub wechatpay: Option<WechatPay>,
    /// Wakes the sandbox's delivery task when it keeps a notification.
    pub sandbox_due: tokio::sync::Notify,
}

impl Payments {
    /// The providers as configured; a configured provider whose keys do not parse is an error.
    pub fn new(config: &MallConfig) -> anyhow::Result<Payments> {
        let sandbox_key = match config.sandbox_key.as_str() {
            "" => rand::random::<[u8; 32]>().to_vec(),
            key => key.as_bytes().to_vec(),
        };
        Ok(Payments {
            sandbox_key,
            own_address: OnceLock::new(),
            client: reqwest::Client::new(),
            alipay: Alipay::from_config(&config.alipay).context("mall.alipay")?,
            wechatpay: WechatPay::from_config(&config.wechatpay).context("mall.wechatpay")?,
            sandbox_due: tokio::sync::Notify::new(),
        })
    }

    /// The providers a buyer can choose here.
    pub fn providers(&self) -> Vec<Provider> {
        let mut providers = vec![Provider::Sandbox];
        providers.extend(self.alipay.as_ref().map(|_| Provider::Alipay));
        providers.extend(self.wechatpay.as_ref().map(|_| Provider::WechatPay));
        providers
    }

    /// The provider's adapter, if it is configured here.
    pub fn adapter(&self, provider: Provider) -> AppResult<Adapter<'_>> {
        let adapter = match provider {
            Provider::Sandbox => Some(Adapter::Sandbox),
            Provider::Alipay => self.alipay.as_ref().map(Adapter::Alipay),
            Provider::WechatPay => self.wechatpay.as_ref().map(Adapter::WechatPay),
        };
        adapter.ok_or_else(|| {
            AppError::Conflict(
                "provider",
                format!(
                    "{} is no longer configured; its payments cannot be asked about or refunded",
                    provider.name()
                ),
            )
        })
    }

    /// Called once the server listens.
    pub fn serving_at(&self, address: SocketAddr) {
        let _ = self.own_address.set(address);
    }

    pub fn own_address(&self) -> Option<SocketAddr> {
        self.own_address.get().copied()
    }
}

/// Where the buyer pays the sandbox; a real provider's address is given when the payment starts.
pub fn pay_url(provider: Provider, payment: Id) -> String {
    match provider {
        Provider::Sandbox => format!("/pay/sandbox/{}", payment.as_i64()),
        Provider::Alipay | Provider::WechatPay => String::new(),
    }
}

/// Where a provider posts its notifications about payments and refunds.
pub(super) fn notify_url(state: &AppState, provider: Provider) -> String {
    let site = state.config.server.public_url.trim_end_matches('/');
    format!("{site}/api/v1/payments/notify/{}", provider.as_str())
}

/// The number a payment's refund has with its provider: one refund per payment, so asking
/// twice is one refund.
pub fn refund_number(payment: Id) -> String {
    format!("R{}", payment.as_i64())
}

/// The buyer starts paying for their order with a provider.
pub async fn start(
    state: &AppState,
    buyer: &User,
    order: Id,
    provider: &str,
) -> AppResult<Payment> {
    let providers = state.payments.providers();
    let Some(provider) = providers.iter().copied().find(|p| p.as_str() == provider) else {
        let names: Vec<&str> = providers.iter().map(|p| p.as_str()).collect();
        return Err(AppError::Validation(vec![FieldError::new(
            "provider",
            format!("must be one of: {}", names.join(", ")),
        )]));
    };
    let order = payable_order(state, buyer, order).await?;
    let id = state.ids.next_id();
    let mut payment = Payment {
        id,
        order_id: order.id,
        provider,
        amount: order.total,
        currency: order.currency.clone(),
        status: PaymentStatus::Pending,
        provider_ref: String::new(),
        pay_url: pay_url(provider, id),
        created_at: Timestamp::now(),
    };
    store::insert_payment(&state.db, &payment).await?;
    let adapter = state.payments.adapter(provider)?;
    payment.pay_url = adapter.pay_url(state, &payment, &order).await?;
    Ok(payment)
}

/// Where a buyer comes back to from a provider: the order, told which payment they made, so
/// that it can say the payment is being confirmed until the provider's notification lands.
pub fn return_path(payment: &Payment) -> String {
    format!("/orders/{}?paying={}", payment.order_id, payment.id)
}

/// The buyer's own order, still awaiting payment and within its time to pay.
async fn payable_order(state: &AppState, buyer: &User, id: Id) -> AppResult<Order> {
    let (order, party) = orders::order_for(state, buyer, id).await?;
    if party != Party::Buyer {
        return Err(AppError::Forbidden("only the buyer may pay for an order"));
    }
    if order.status != OrderStatus::PendingPayment {
        return Err(AppError::Conflict(
            "status",
            format!(
                "the order is {}; only unpaid orders can be paid",
                order.status.as_str()
            ),
        ));
    }
    if order.pay_by < Timestamp::now() {
        return Err(AppError::Conflict(
            "status",
            "the time to pay has run out".into(),
        ));
    }
    Ok(order)
}

/// A payment the buyer may act on (their own, still pending).
pub async fn own_pending(state: &AppState, buyer: &User, id: Id) -> AppResult<Payment> {
    let payment = payment(state, buyer, id).await?;
    if payment.status != PaymentStatus::Pending {
        return Err(AppError::Conflict(
            "status",
            format!("the payment has {}", payment.status.as_str()),
        ));
    }
    payable_order(state, buyer, payment.order_id).await?;
    Ok(payment)
}

/// A payment, for the buyer of its order.
pub async fn payment(state: &AppState, viewer: &User, id: Id) -> AppResult<Payment> {
    let payment = find_payment(state, id).await?;
    let (_, party) = orders::order_for(state, viewer, payment.order_id).await?;
    match party {
        Party::Buyer => Ok(payment),
        Party::Merchant => Err(AppError::Forbidden("only the buyer may see a payment")),
    }
}

/// What a provider's verified notification says.
pub struct Notice<'a> {
    pub provider: Provider,
    pub payment: Id,
    pub succeeded: bool,
    pub amount: i64,
    pub currency: &'a str,
    pub provider_ref: &'a str,
}

/// Applies a verified notification as one recoverable unit. Every step may be repeated: a
/// retried notification finds the money recorded, the payment settled and the order paid, and
/// changes nothing. The money goes into the ledger first (under ids chosen once), so a
/// succeeded payment always has its money recorded; then one transaction settles the payment
/// and, if the order still waits for payment, makes it paid by this payment. A crash between
/// the two leaves the payment pending, to be finished by the provider's next delivery.
pub async fn apply(state: &AppState, notice: &Notice<'_>) -> AppResult<()> {
    let payment = find_payment(state, notice.payment).await?;
    if payment.provider != notice.provider
        || payment.amount != notice.amount
        || payment.currency != notice.currency
    {
        tracing::warn!(
            payment = payment.id.as_i64(),
            "a notification does not match its payment"
        );
        return Err(AppError::BadRequest(
            "the notification does not match the payment".into(),
        ));
    }
    let now = Timestamp::now();
    let (id, order) = (payment.id, payment.order_id);
    if !notice.succeeded {
        let mut tx = state.db.begin_write().await?;
        if store::settle(&mut tx, id, false, notice.provider_ref, now).await? {
            let change = Change::PaymentFailed { payment: id, order };
            state.changes.record(&mut tx, change).await?;
        }
        state.changes.commit(tx).await?;
        return Ok(());
    }
    let order = find_order(state, order).await?;
    record_money(state, &order, &payment).await?;
    let mut tx = state.db.begin_write().await?;
    if store::settle(&mut tx, id, true, notice.provider_ref, now).await? {
        let change = Change::PaymentSucceeded {
            payment: id,
            order: order.id,
        };
        state.changes.record(&mut tx, change).await?;
    }
    let paid = Happening::Paid {
        provider: payment.provider.as_str().to_owned(),
    };
    orders::mark_paid(state, &mut tx, order.id, payment.id, paid).await?;
    state.changes.commit(tx).await?;
    give_back_if_unneeded(state, payment.id).await
}

/// A succeeded payment that is not the one that paid its order (the order was cancelled, or
/// another payment paid it first) is given back.
async fn give_back_if_unneeded(state: &AppState, id: Id) -> AppResult<()> {
    let payment = find_payment(state, id).await?;
    if !matches!(
        payment.status,
        PaymentStatus::Succeeded | PaymentStatus::Refunding
    ) || store::payer_of(&state.db, payment.order_id).await? == Some(id)
    {
        return Ok(());
    }
    let order = find_order(state, payment.order_id).await?;
    give_back(state, &order, &payment).await;
    Ok(())
}

/// Finishes what a crash interrupted: every succeeded payment settled before `settled_before`
/// that did not pay its order is given back. (The order task leaves the last minute's to the
/// requests applying them.)
pub async fn finish_unneeded(state: &AppState, settled_before: Timestamp) -> AppResult<usize> {
    let unneeded = store::unneeded(&state.db, settled_before, 100).await?;
    for &id in &unneeded {
        give_back_if_unneeded(state, id).await?;
    }
    Ok(unneeded.len())
}

/// A payment its order did not need (it came after the order was cancelled, or the order was
/// paid already) goes straight back, with a line on the order's timeline.
async fn give_back(state: &AppState, order: &Order, payment: &Payment) {
    let given = async {
        let reason = "the order did not need this payment";
        let (progress, first) = refund_payment(state, order, payment, false, reason).await?;
        if first {
            let returned = Happening::UnneededPaymentReturned {
                provider: payment.provider.as_str().to_owned(),
                paying_out: progress == RefundProgress::Processing,
            };
            orders::add_to_timeline(state, order, returned).await?;
        }
        Ok::<_, AppError>(())
    };
    if let Err(e) = given.await {
        tracing::error!(payment = payment.id.as_i64(), error = %e, "a payment its order did not need could not be refunded");
    }
}

/// The money of a successful payment: from the provider into clearing, and the provider's fee.
async fn record_money(state: &AppState, order: &Order, payment: &Payment) -> AppResult<()> {
    let fee = orders::channel_fee(state, payment.amount);
    let provider = payment.provider.as_str();
    let book = orders::book(order)?;
    postings::payment_received(state, book, payment.id, provider, payment.amount, fee).await
}

/// Gives a paid order's money back through its provider, exactly reversing what the ledger
/// holds for it. Asking again after a failure finishes the job and moves nothing twice.
pub async fn refund(state: &AppState, order: &Order, reason: &str) -> AppResult<RefundProgress> {
    let paid = store::paid_with(&state.db, order.id)
        .await?
        .ok_or_else(|| AppError::Conflict("status", "the order was never paid".into()))?;
    let payment = find_payment(state, paid).await?;
    let (progress, _) = refund_payment(state, order, &payment, true, reason).await?;
    Ok(progress)
}

/// Gives one payment back. The payment is marked `refunding` first, so that a refund whose
/// outcome is unknown (the provider did not answer) is finished by asking again, never dropped.
/// Then the provider is asked, under a refund number it knows the payment's refund by, so
/// asking again is the same refund; a refusal records nothing and the payment is as it was.
/// Then the ledger takes the money back into refunds payable: for the payment that paid the
/// order (`whole_order`) by reversing the order's completion if it completed, else from
/// clearing. The money leaves with the provider once it is paid out: at once, or when the
/// provider says so later. Returns where the refund stands, and whether this call began it.
async fn refund_payment(
    state: &AppState,
    order: &Order,
    payment: &Payment,
    whole_order: bool,
    reason: &str,
) -> AppResult<(RefundProgress, bool)> {
    use PaymentStatus::{Refunding, Succeeded};
    let began = mark(state, payment, &[Succeeded], Refunding).await?;
    let progress = match ask_provider(state, payment, reason).await {
        Err(refused @ AppError::Conflict(..)) => {
            mark(state, payment, &[Refunding], Succeeded).await?;
            return Err(refused);
        }
        asked => asked?,
    };
    take_back(state, order, payment, whole_order).await?;
    if progress == RefundProgress::Done {
        paid_out(state, order, payment).await?;
    }
    Ok((progress, began))
}

/// Whether a refund of the order was begun and not finished: its outcome with the provider is
/// unknown until the store approves again.
pub async fn refund_under_way(state: &AppState, order: Id) -> AppResult<bool> {
    let Some(paid) = store::paid_with(&state.db, order).await? else {
        return Ok(false);
    };
    let payment = store::payment(&state.db, paid).await?;
    Ok(payment.is_some_and(|p| p.status == PaymentStatus::Refunding))
}

/// Asks the payment's provider to give the money back to the buyer.
async fn ask_provider(
    state: &AppState,
    payment: &Payment,
    reason: &str,
) -> AppResult<RefundProgress> {
    let adapter = state.payments.adapter(payment.provider)?;
    adapter.refund(state, payment, reason).await
}

/// The ledger's side of a refund: the payment's money back into refunds payable.
async fn take_back(
    state: &AppState,
    order: &Order,
    payment: &Payment,
    whole_order: bool,
) -> AppResult<()> {
    let book = orders::book(order)?;
    postings::refund_taken_back(state, book, payment.id, payment.amount, whole_order).await
}

/// The provider paid the refund out: the money leaves refunds payable with it, and the payment
/// is refunded. True when this call marked it so.
async fn paid_out(state: &AppState, order: &Order, payment: &Payment) -> AppResult<bool> {
    let book = orders::book(order)?;
    let provider = payment.provider.as_str();
    postings::refund_paid_out(state, book, payment.id, provider, payment.amount).await?;
    let from = [
        PaymentStatus::Succeeded,
        PaymentStatus::Refunding,
        PaymentStatus::RefundFailed,
    ];
    mark(state, payment, &from, PaymentStatus::Refunded).await
}

/// Moves a payment from one of `from` to `to`; false when it was in none of them. A payment
/// refunded in full is recorded in the change log.
async fn mark(
    state: &AppState,
    payment: &Payment,
    from: &[PaymentStatus],
    to: PaymentStatus,
) -> AppResult<bool> {
    let mut tx = state.db.begin_write().await?;
    if !store::mark(&mut tx, payment.id, from, to, Timestamp::now()).await? {
        return Ok(false);
    }
    if to == PaymentStatus::Refunded {
        let change = Change::PaymentRefunded {
            payment: payment.id,
            order: payment.order_id,
        };
        state.changes.record(&mut tx, change).await?;
    }
    state.changes.commit(tx).await?;
    Ok(true)
}

/// A provider's later word on a refund it was processing: paid out, or failed. The ledger's
/// side is made sure of first (a crash may have come between the provider's answer and it). A
/// failed refund stays owed to the buyer in refunds payable, for Hongshu's staff to pay by hand.
pub async fn refund_settled(
    state: &AppState,
    provider: Provider,
    payment: Id,
    amount: i64,
    succeeded: bool,
) -> AppResult<()> {
    let payment = find_payment(state, payment).await?;
    if payment.provider != provider || payment.amount != amount {
        tracing::warn!(
            payment = payment.id.as_i64(),
            "a refund notification does not match its payment"
        );
        return Err(AppError::BadRequest(
            "the notification does not match the payment".into(),
        ));
    }
    match payment.status {
        PaymentStatus::Refunding => {}
        PaymentStatus::Refunded | PaymentStatus::RefundFailed => return Ok(()),
        // The refund's request has not been recorded yet: the provider delivers again later.
        _ => {
            return Err(AppError::Conflict(
                "status",
                format!("the payment is {}", payment.status.as_str()),
            ))
        }
    }
    let order = find_order(state, payment.order_id).await?;
    let whole_order = store::payer_of(&state.db, order.id).await? == Some(payment.id);
    take_back(state, &order, &payment, whole_order).await?;
    let spelling = provider.as_str().to_owned();
    if !succeeded {
        let (from, to) = ([PaymentStatus::Refunding], PaymentStatus::RefundFailed);
        if mark(state, &payment, &from, to).await? {
            tracing::error!(
                payment = payment.id.as_i64(),
                "{} could not pay a refund out; it is owed to the buyer",
                provider.name()
            );
            let unpaid = Happening::RefundNotPaidOut { provider: spelling };
            orders::add_to_timeline(state, &order, unpaid).await?;
        }
        return Ok(());
    }
    if paid_out(state, &order, &payment).await? {
        let paid_out = Happening::RefundPaidOut { provider: spelling };
        orders::add_to_timeline(state, &order, paid_out).await?;
    }
    Ok(())
}

/// Before an unpaid order is cancelled, asks the providers of its pending payments how they
/// stand, for a notification may have been lost: a payment they confirm is applied as its
/// notification would have been. A provider that cannot be asked does not hold the order up;
/// a payment confirmed after cancelling is given back.
pub async fn settle_pending(state: &AppState, order: Id) {
    let pending = match store::pending_of(&state.db, order).await {
        Ok(pending) => pending,
        Err(e) => {
            tracing::warn!(error = %e, "could not read an order's pending payments");
            return;
        }
    };
    for payment in pending {
        let asked = match state.payments.adapter(payment.provider) {
            Ok(adapter) => adapter.query(state, &payment).await,
            Err(e) => Err(e),
        };
        let applied = match asked {
            Ok(Some(settled)) => {
                let notice = Notice {
                    provider: payment.provider,
                    payment: payment.id,
                    succeeded: settled.succeeded,
                    amount: settled.amount,
                    currency: &settled.currency,
                    provider_ref: &settled.provider_ref,
                };
                apply(state, &notice).await
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = applied {
            tracing::warn!(payment = payment.id.as_i64(), error = %e, "could not learn how a payment stands");
        }
    }
}

/// Asks WeChat Pay about refunds it has been processing for a while, in case their
/// notifications were lost, and settles those it has finished.
pub async fn follow_up_refunds(state: &AppState) -> AppResult<usize> {
    let Some(wechat) = &state.payments.wechatpay else {
        return Ok(0);
    };
    let before = Timestamp::from_millis(Timestamp::now().as_millis() - REFUND_PATIENCE_MS);
    let mut settled = 0;
    for payment in store::refunding(&state.db, Provider::WechatPay, before, 100).await? {
        let outcome = match wechat.refund_status(&state.payments.client, &payment).await {
            Ok(RefundProgress::Processing) => continue,
            Ok(RefundProgress::Done) => true,
            Err(AppError::Conflict(..)) => false,
            Err(e) => return Err(e),
        };
        let (id, amount) = (payment.id, payment.amount);
        refund_settled(state, Provider::WechatPay, id, amount, outcome).await?;
        settled += 1;
    }
    Ok(settled)
}

/// How long a provider may process a refund before Hongshu asks after it.
const REFUND_PATIENCE_MS: i64 = 10 * 60 * 1000;

/// Refunds a provider could not pay out, which Hongshu owes buyers: for its staff to pay by
/// other means (such as the provider's merchant console) and record.
pub async fn refunds_owed(state: &AppState, staff: &User) -> AppResult<Vec<Payment>> {
    require_admin(staff)?;
    Ok(store::refunds_failed(&state.db, 500).await?)
}

/// Staff record that they paid a failed refund by other means through the payment's provider
/// account: the money leaves refunds payable, the payment is refunded, and the order's
/// timeline says so with the staff's reference.
pub async fn refunded_by_hand(
    state: &AppState,
    staff: &User,
    id: Id,
    reference: &str,
) -> AppResult<Payment> {
    require_admin(staff)?;
    let reference = crate::accounts::types::parse_line("reference", reference, 100)?;
    let payment = find_payment(state, id).await?;
    if payment.status != PaymentStatus::RefundFailed {
        return Err(AppError::Conflict(
            "status",
            format!(
                "the payment is {}; only failed refunds are paid by hand",
                payment.status.as_str()
            ),
        ));
    }
    let order = find_order(state, payment.order_id).await?;
    if paid_out(state, &order, &payment).await? {
        let by_staff = Happening::RefundPaidByStaff {
            reference: reference.to_owned(),
        };
        orders::add_to_timeline(state, &order, by_staff).await?;
    }
    find_payment(state, id).await
}

async fn find_payment(state: &AppState, id: Id) -> AppResult<Payment> {
    store::payment(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("payment"))
}

async fn find_order(state: &AppState, id: Id) -> AppResult<Order> {
    order_store::order(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("order"))
}
