//! The chart of accounts: every kind of account Hongshu's money passes through, and why money
//! moves (transfer codes). `docs/chart-of-accounts.md` walks through the money paths.

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

/// Who owns an account: `platform`, `provider:<name>`, `store:<id>`, `user:<id>`, `org:<id>`.
pub fn parse_owner(owner: &str) -> Option<&str> {
    let valid = owner == "platform"
        || ["provider:", "store:", "user:", "org:"]
            .iter()
            .any(|prefix| {
                owner.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty()
                        && rest.len() <= 40
                        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
            });
    valid.then_some(owner)
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
        for good in [
            "platform",
            "store:42",
            "user:7",
            "org:redbean",
            "provider:alipay",
        ] {
            assert_eq!(parse_owner(good), Some(good));
        }
        for bad in ["", "store:", "shop:1", "user:1; DROP", "platform2"] {
            assert_eq!(parse_owner(bad), None, "{bad:?}");
        }
    }
}
