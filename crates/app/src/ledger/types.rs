//! The chart of accounts: every kind of account Hongshu's money passes through, and why money
//! moves (transfer codes). `docs/chart-of-accounts.md` walks through the money paths.

use std::fmt;

use kernel::Id;
use ledger::AccountFlags;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Kinds of ledger account. The number is the account's `code` in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Asset: money held for Hongshu at a payment provider. Owner `provider:<name>`.
    ProviderCash,
    /// Clearing: buyers' payments received and not yet split. Owner `platform`.
    BuyerPayments,
    /// Liability: what Hongshu owes a store for its sales. Owner `store:<id>`.
    MerchantPayable,
    /// Liability: what Hongshu owes a creator in commissions and deals. Owner `user:<id>`.
    CreatorEarnings,
    /// Liability: an organisation's prepaid advertising balance. Owner `org:<id>`.
    AdvertiserPrepaid,
    /// Liability: money a brand has put in escrow for creator deals. Owner `org:<id>`.
    BrandDealEscrow,
    /// Clearing: approved refunds on their way back through the provider. Owner `platform`.
    RefundsPayable,
    /// Revenue: Hongshu's commission on sales. Owner `platform`.
    CommissionRevenue,
    /// Revenue: advertising spend. Owner `platform`.
    AdRevenue,
    /// Expense: what payment providers charge. Owner `platform`.
    ChannelFees,
}

impl AccountKind {
    pub const ALL: [AccountKind; 10] = [
        AccountKind::ProviderCash,
        AccountKind::BuyerPayments,
        AccountKind::MerchantPayable,
        AccountKind::CreatorEarnings,
        AccountKind::AdvertiserPrepaid,
        AccountKind::BrandDealEscrow,
        AccountKind::RefundsPayable,
        AccountKind::CommissionRevenue,
        AccountKind::AdRevenue,
        AccountKind::ChannelFees,
    ];

    pub fn code(self) -> i64 {
        match self {
            AccountKind::ProviderCash => 100,
            AccountKind::BuyerPayments => 110,
            AccountKind::MerchantPayable => 200,
            AccountKind::CreatorEarnings => 210,
            AccountKind::AdvertiserPrepaid => 220,
            AccountKind::BrandDealEscrow => 230,
            AccountKind::RefundsPayable => 240,
            AccountKind::CommissionRevenue => 400,
            AccountKind::AdRevenue => 410,
            AccountKind::ChannelFees => 500,
        }
    }

    pub fn from_code(code: i64) -> Option<AccountKind> {
        AccountKind::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
    }

    /// What Hongshu owes (payables, earnings, prepaid balances, escrow) can never be paid out
    /// beyond what came in: debits may not exceed credits.
    pub fn flags(self) -> AccountFlags {
        AccountFlags {
            debits_must_not_exceed_credits: matches!(
                self,
                AccountKind::MerchantPayable
                    | AccountKind::CreatorEarnings
                    | AccountKind::AdvertiserPrepaid
                    | AccountKind::BrandDealEscrow
            ),
            credits_must_not_exceed_debits: false,
        }
    }
}

/// Why money moves: the `code` of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferCode {
    /// Provider cash → buyer payments: a buyer paid.
    OrderPayment,
    /// Buyer payments → merchant payable: the store's share of an order.
    MerchantShare,
    /// Buyer payments → commission revenue: Hongshu's fee on an order.
    PlatformCommission,
    /// Buyer payments → creator earnings: the commission for the note that sold it.
    CreatorCommission,
    /// Channel fees → provider cash: what the provider kept.
    ChannelFee,
    /// Merchant payable (or creator earnings) → refunds payable, then on to the provider.
    Refund,
    /// Creator earnings → merchant payable: a commission taken back after a refund.
    CommissionClawback,
    /// Merchant payable or creator earnings → provider cash: money paid out.
    Payout,
    /// Provider cash → advertiser prepaid: an advertiser topped up.
    AdTopUp,
    /// Advertiser prepaid → ad revenue: ads delivered.
    AdSpend,
    /// Provider cash → brand-deal escrow, and escrow → creator earnings when a deal completes.
    DealEscrow,
    /// A correction made by finance staff.
    Adjustment,
}

impl TransferCode {
    pub const ALL: [TransferCode; 12] = [
        TransferCode::OrderPayment,
        TransferCode::MerchantShare,
        TransferCode::PlatformCommission,
        TransferCode::CreatorCommission,
        TransferCode::ChannelFee,
        TransferCode::Refund,
        TransferCode::CommissionClawback,
        TransferCode::Payout,
        TransferCode::AdTopUp,
        TransferCode::AdSpend,
        TransferCode::DealEscrow,
        TransferCode::Adjustment,
    ];

    pub fn code(self) -> i64 {
        // Stable numbers: never reorder, only append.
        match self {
            TransferCode::OrderPayment => 1,
            TransferCode::MerchantShare => 2,
            TransferCode::PlatformCommission => 3,
            TransferCode::CreatorCommission => 4,
            TransferCode::ChannelFee => 5,
            TransferCode::Refund => 6,
            TransferCode::CommissionClawback => 7,
            TransferCode::Payout => 8,
            TransferCode::AdTopUp => 9,
            TransferCode::AdSpend => 10,
            TransferCode::DealEscrow => 11,
            TransferCode::Adjustment => 12,
        }
    }

    pub fn from_code(code: i64) -> Option<TransferCode> {
        TransferCode::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Who owns an account, stored as `platform`, `provider:<name>`, `store:<id>`, `user:<id>` or
/// `org:<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Platform,
    /// A payment provider, by the name payments know it by (`alipay`).
    Provider(String),
    Store(Id),
    User(Id),
    Org(Id),
}

impl Owner {
    /// The stored form; `None` for anything else.
    pub fn parse(text: &str) -> Option<Owner> {
        if text == "platform" {
            return Some(Owner::Platform);
        }
        let (kind, rest) = text.split_once(':')?;
        let id = || {
            rest.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(Id::from_i64)
        };
        match kind {
            "provider" if is_name(rest) => Some(Owner::Provider(rest.to_owned())),
            "store" => id().map(Owner::Store),
            "user" => id().map(Owner::User),
            "org" => id().map(Owner::Org),
            _ => None,
        }
    }
}

fn is_name(text: &str) -> bool {
    (1..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Platform => f.write_str("platform"),
            Owner::Provider(name) => write!(f, "provider:{name}"),
            Owner::Store(id) => write!(f, "store:{}", id.as_i64()),
            Owner::User(id) => write!(f, "user:{}", id.as_i64()),
            Owner::Org(id) => write!(f, "org:{}", id.as_i64()),
        }
    }
}

/// A part of an order's money that moves from clearing when the order completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The store's share, to its payable.
    MerchantShare,
    /// Hongshu's commission, to its revenue.
    PlatformCommission,
    /// The channel fee, recovered from the store into Hongshu's revenue.
    ChannelFeeRecovered,
    /// A creator's commission for the note that sold an item, to their earnings.
    CreatorCommission(Id),
}

/// One step of an order's money. Each is made once per order: the ledger transfer id chosen
/// for it the first time is kept (`order_transfers`), so doing a step again moves nothing.
/// The stored form (its [`fmt::Display`]) is read back by the payments audit's queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `payment:<id>`: a payment came in from its provider into clearing.
    Received { payment: Id },
    /// `fee:<id>`: what the provider kept of it.
    ProviderFee { payment: Id },
    /// `merchant_share`, …: the order completed and its money left clearing.
    Completion(Part),
    /// `refund:<id>:<part>`: a refund took a completion part back into refunds payable.
    TakenBack { payment: Id, part: Part },
    /// `refund:<id>:clearing`: a refund took the payment back from clearing (the order had not
    /// completed).
    TakenFromClearing { payment: Id },
    /// `refund:<id>:paid_out`: the refund left with the provider.
    PaidOut { payment: Id },
}

impl Step {
    /// The stored form; `None` for anything else.
    pub fn parse(text: &str) -> Option<Step> {
        if let Some(part) = Part::parse(text) {
            return Some(Step::Completion(part));
        }
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "payment" => Some(Step::Received { payment: id(rest)? }),
            "fee" => Some(Step::ProviderFee { payment: id(rest)? }),
            "refund" => {
                let (payment, what) = rest.split_once(':')?;
                let payment = id(payment)?;
                match what {
                    "clearing" => Some(Step::TakenFromClearing { payment }),
                    "paid_out" => Some(Step::PaidOut { payment }),
                    part => Some(Step::TakenBack {
                        payment,
                        part: Part::parse(part)?,
                    }),
                }
            }
            _ => None,
        }
    }
}

fn id(text: &str) -> Option<Id> {
    text.parse().ok().map(Id::from_i64)
}

impl Part {
    fn parse(text: &str) -> Option<Part> {
        match text.split_once(':') {
            None => match text {
                "merchant_share" => Some(Part::MerchantShare),
                "platform_commission" => Some(Part::PlatformCommission),
                "channel_fee_recovered" => Some(Part::ChannelFeeRecovered),
                _ => None,
            },
            Some(("creator_commission", creator)) => Some(Part::CreatorCommission(id(creator)?)),
            Some(_) => None,
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::MerchantShare => f.write_str("merchant_share"),
            Part::PlatformCommission => f.write_str("platform_commission"),
            Part::ChannelFeeRecovered => f.write_str("channel_fee_recovered"),
            Part::CreatorCommission(creator) => {
                write!(f, "creator_commission:{}", creator.as_i64())
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Received { payment } => write!(f, "payment:{}", payment.as_i64()),
            Step::ProviderFee { payment } => write!(f, "fee:{}", payment.as_i64()),
            Step::Completion(part) => part.fmt(f),
            Step::TakenBack { payment, part } => write!(f, "refund:{}:{part}", payment.as_i64()),
            Step::TakenFromClearing { payment } => {
                write!(f, "refund:{}:clearing", payment.as_i64())
            }
            Step::PaidOut { payment } => write!(f, "refund:{}:paid_out", payment.as_i64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for kind in AccountKind::ALL {
            assert_eq!(AccountKind::from_code(kind.code()), Some(kind));
        }
        for code in TransferCode::ALL {
            assert_eq!(TransferCode::from_code(code.code()), Some(code));
        }
    }

    #[test]
    fn what_hongshu_owes_cannot_go_negative() {
        assert!(
            AccountKind::CreatorEarnings
                .flags()
                .debits_must_not_exceed_credits
        );
        assert!(
            !AccountKind::ProviderCash
                .flags()
                .debits_must_not_exceed_credits
        );
    }

    #[test]
    fn owners_are_checked() {
        for good in ["platform", "store:42", "user:7", "org:3", "provider:alipay"] {
            let owner = Owner::parse(good).expect(good);
            assert_eq!(owner.to_string(), good);
        }
        for bad in [
            "",
            "store:",
            "store:x",
            "user:-1",
            "shop:1",
            "user:1; DROP",
            "platform2",
        ] {
            assert_eq!(Owner::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn steps_read_back_as_written() {
        let payment = Id::from_i64(77);
        let creator = Id::from_i64(5);
        let parts = [
            Part::MerchantShare,
            Part::PlatformCommission,
            Part::ChannelFeeRecovered,
            Part::CreatorCommission(creator),
        ];
        let mut steps = vec![
            Step::Received { payment },
            Step::ProviderFee { payment },
            Step::TakenFromClearing { payment },
            Step::PaidOut { payment },
        ];
        for part in parts {
            steps.push(Step::Completion(part));
            steps.push(Step::TakenBack { payment, part });
        }
        for step in steps {
            assert_eq!(Step::parse(&step.to_string()), Some(step), "{step}");
        }
        assert_eq!(Step::Received { payment }.to_string(), "payment:77");
        assert_eq!(
            Step::TakenBack {
                payment,
                part: Part::CreatorCommission(creator)
            }
            .to_string(),
            "refund:77:creator_commission:5"
        );
        for bad in ["", "refund:77", "refund:77:tip", "payment:x", "commission"] {
            assert_eq!(Step::parse(bad), None, "{bad:?}");
        }
    }
}
