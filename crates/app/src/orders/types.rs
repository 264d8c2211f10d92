//! Buying's vocabulary: addresses, the cart, checkout requests, orders and their timeline.

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::types::{parse_line, Fields};
use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Shipped,
    Delivered,
    Completed,
    Cancelled,
    /// The buyer was refunded in full after an after-sales request.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }
}

/// Where an order goes, as the buyer wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct AddressDraft {
    /// The recipient.
    pub name: String,
    pub phone: String,
    /// Province or region; stores may charge it a shipping fee of its own.
    pub region: String,
    /// City, street, building.
    pub detail: String,
}

impl AddressDraft {
    /// The address with every field checked and trimmed.
    pub fn parse(&self) -> AppResult<AddressDraft> {
        let mut fields = Fields::default();
        let name = fields.check(parse_line("name", &self.name, 40));
        let phone = fields.check(parse_phone(&self.phone));
        let region = fields.check(parse_line("region", &self.region, 20));
        let detail = fields.check(parse_line("detail", &self.detail, 200));
        let (((name, phone), region), detail) =
            fields.finish(name.zip(phone).zip(region).zip(detail))?;
        Ok(AddressDraft {
            name,
            phone,
            region,
            detail,
        })
    }
}

fn parse_phone(input: &str) -> Result<String, crate::error::FieldError> {
    let phone = input.trim();
    let digits = phone.trim_start_matches('+');
    if (6..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        Ok(phone.to_owned())
    } else {
        Err(crate::error::FieldError::new(
            "phone",
            "must be 6 to 20 digits (dashes and a leading + allowed)",
        ))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Address {
    pub id: Id,
    #[serde(flatten)]
    pub to: AddressDraft,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CartItem {
    pub sku_id: Id,
    pub product_id: Id,
    pub store_id: Id,
    pub store_name: String,
    pub title: String,
    pub sku_name: String,
    /// In fen, as of now.
    pub price: i64,
    pub quantity: i64,
    /// Units left to buy.
    pub stock: i64,
    /// False when the product is no longer on sale.
    pub on_sale: bool,
    pub image_url: Option<String>,
    /// The note it was found in, if any.
    pub note_id: Option<Id>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct LineRequest {
    pub sku_id: Id,
    /// 1–999.
    pub quantity: i64,
    /// The note the product was found in: its author earns the product's commission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_id: Option<Id>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CheckoutRequest {
    /// One of the buyer's saved addresses.
    pub address_id: Id,
    /// What to buy; items of several stores become one order per store.
    pub items: Vec<LineRequest>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderItem {
    pub sku_id: Id,
    pub product_id: Id,
    pub title: String,
    pub sku_name: String,
    pub unit_price: i64,
    pub quantity: i64,
    /// Bought from this note.
    pub note_id: Option<Id>,
    /// The note's author, who earns `commission_bp` of the item (none for their own purchase).
    #[serde(skip)]
    pub creator_id: Option<Id>,
    #[serde(skip)]
    pub commission_bp: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderEvent {
    pub status: OrderStatus,
    /// What happened, in English.
    pub detail: String,
    pub at: Timestamp,
    /// The same by kind, for pages in every language.
    #[serde(skip)]
    pub happening: Happening,
}

impl OrderEvent {
    pub fn new(status: OrderStatus, happening: Happening, at: Timestamp) -> OrderEvent {
        OrderEvent {
            status,
            detail: happening.english(),
            at,
            happening,
        }
    }
}

/// What happened at a step of an order's timeline. Kept by kind (as JSON in the timeline's
/// `detail` column) so that each reader reads it in their own language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Happening {
    Placed,
    /// Paid through a provider, by its spelling (`sandbox`, `alipay`, `wechatpay`).
    Paid {
        provider: String,
    },
    CancelledByBuyer,
    CancelledByStore,
    NotPaidInTime,
    Shipped {
        carrier: String,
        tracking: String,
    },
    Delivered,
    ReceiptConfirmed,
    CompletedAutomatically,
    /// Refunded for the buyer's reason; `paying_out` while the provider still pays it.
    Refunded {
        reason: String,
        paying_out: bool,
    },
    /// A second payment of an order already paid went back to the buyer.
    UnneededPaymentReturned {
        provider: String,
        paying_out: bool,
    },
    RefundPaidOut {
        provider: String,
    },
    RefundNotPaidOut {
        provider: String,
    },
    RefundPaidByStaff {
        reference: String,
    },
    /// A line written before timelines were kept by kind: its English as it was.
    Earlier {
        text: String,
    },
}

/// A provider by its spelling, as buyers know it in English.
fn provider_name(spelling: &str) -> &str {
    use store::TextState;
    crate::payments::types::Provider::from_db(spelling).map_or(spelling, |p| p.name())
}

impl Happening {
    /// As the timeline's `detail` column keeps it.
    pub fn to_db(&self) -> String {
        serde_json::to_string(self).expect("a happening is plain data")
    }

    pub fn from_db(text: &str) -> Happening {
        serde_json::from_str(text).unwrap_or_else(|_| Happening::Earlier {
            text: text.to_owned(),
        })
    }

    pub fn english(&self) -> String {
        match self {
            Happening::Placed => "order placed".into(),
            Happening::Paid { provider } => format!("paid with {provider}"),
            Happening::CancelledByBuyer => "cancelled by the buyer".into(),
            Happening::CancelledByStore => "cancelled by the store".into(),
            Happening::NotPaidInTime => "not paid in time".into(),
            Happening::Shipped { carrier, tracking } => {
                format!("shipped with {carrier}, tracking number {tracking}")
            }
            Happening::Delivered => "delivered".into(),
            Happening::ReceiptConfirmed => "receipt confirmed by the buyer".into(),
            Happening::CompletedAutomatically => "completed automatically".into(),
            Happening::Refunded { reason, paying_out } => match paying_out {
                false => format!("refunded: {reason}"),
                true => format!("refunded: {reason}; the payment provider is paying it out"),
            },
            Happening::UnneededPaymentReturned {
                provider,
                paying_out,
            } => {
                let how = if *paying_out {
                    "is being refunded"
                } else {
                    "was refunded"
                };
                format!("a payment it did not need {how} ({provider})")
            }
            Happening::RefundPaidOut { provider } => {
                format!("the refund was paid out by {}", provider_name(provider))
            }
            Happening::RefundNotPaidOut { provider } => format!(
                "{} could not pay the refund out; Hongshu owes it to the buyer",
                provider_name(provider)
            ),
            Happening::RefundPaidByStaff { reference } => {
                format!("the refund was paid by Hongshu's staff ({reference})")
            }
            Happening::Earlier { text } => text.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Order {
    pub id: Id,
    /// Orders placed by one checkout share it.
    pub checkout_id: Id,
    pub buyer_id: Id,
    pub store_id: Id,
    pub store_name: String,
    pub status: OrderStatus,
    pub currency: String,
    /// In fen: the items, shipping, and what the buyer pays.
    pub items_total: i64,
    pub shipping_fee: i64,
    pub total: i64,
    pub ship_to: AddressDraft,
    pub carrier: String,
    pub tracking_number: String,
    /// Unpaid by then, the order is cancelled and its stock released.
    pub pay_by: Timestamp,
    pub items: Vec<OrderItem>,
    /// Every status the order went through, oldest first.
    pub timeline: Vec<OrderEvent>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReviewDraft {
    /// 1–5 stars.
    pub rating: i64,
    /// Up to 500 characters.
    #[serde(default)]
    pub body: String,
    /// Up to 9 of the buyer's images.
    #[serde(default)]
    pub media_ids: Vec<Id>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    pub id: Id,
    pub product_id: Id,
    pub buyer: crate::notes::types::Author,
    /// The variant bought.
    pub sku_name: String,
    pub rating: i64,
    pub body: String,
    pub media: Vec<crate::media::types::Media>,
    /// Always true: only the buyer of the item can review it.
    pub verified_purchase: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleKind {
    /// Before shipping: the money back, nothing to return.
    RefundOnly,
    /// After shipping: the goods go back, then the money.
    ReturnAndRefund,
}

impl AfterSaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleKind::RefundOnly => "refund_only",
            AfterSaleKind::ReturnAndRefund => "return_and_refund",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AfterSale {
    pub id: Id,
    pub order_id: Id,
    pub kind: AfterSaleKind,
    pub status: AfterSaleStatus,
    pub reason: String,
    /// The store's reason, when it rejected the request.
    pub answer: String,
    /// In fen: the whole order.
    pub amount: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl store::TextState for AfterSaleKind {
    const WHAT: &'static str = "after-sales kind";
    const ALL: &'static [AfterSaleKind] =
        &[AfterSaleKind::RefundOnly, AfterSaleKind::ReturnAndRefund];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

impl store::TextState for OrderStatus {
    const WHAT: &'static str = "order status";
    const ALL: &'static [OrderStatus] = &OrderStatus::ALL;

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

/// Where an after-sales request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleStatus {
    /// Waiting for the store's answer.
    Requested,
    Rejected,
    /// Approved: the order was refunded.
    Refunded,
}

impl AfterSaleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleStatus::Requested => "requested",
            AfterSaleStatus::Rejected => "rejected",
            AfterSaleStatus::Refunded => "refunded",
        }
    }

    pub fn awaits_answer(self) -> bool {
        self == AfterSaleStatus::Requested
    }
}

impl store::TextState for AfterSaleStatus {
    const WHAT: &'static str = "after-sales status";
    const ALL: &'static [AfterSaleStatus] = &[
        AfterSaleStatus::Requested,
        AfterSaleStatus::Rejected,
        AfterSaleStatus::Refunded,
    ];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
