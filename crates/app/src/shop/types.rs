//! The mall's vocabulary: stores, products and their SKUs, and what merchants send to make them.

use std::collections::BTreeMap;

use kernel::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::types::Fields;
use crate::error::FieldError;
use crate::media::types::Media;

/// The most of one SKU a single order may hold, and the largest price or fee (¥1,000,000), so
/// that no total can overflow.
pub const MAX_QUANTITY: i64 = 999;
pub const MAX_PRICE: i64 = 100_000_000;
pub const MAX_STOCK: i64 = 10_000_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Shipping {
    /// Per order, in fen, unless a region has its own fee.
    pub fee: i64,
    /// Orders whose items come to at least this much ship free; 0: never free.
    #[serde(default)]
    pub free_over: i64,
    /// Region (province) → fee, for regions that cost more or less to reach.
    #[serde(default)]
    pub region_fees: BTreeMap<String, i64>,
}

impl Shipping {
    /// What an order of `items_total` to `region` pays for shipping.
    pub fn fee_for(&self, region: &str, items_total: i64) -> i64 {
        if self.free_over > 0 && items_total >= self.free_over {
            return 0;
        }
        self.region_fees.get(region).copied().unwrap_or(self.fee)
    }

    pub fn check(&self) -> Result<(), FieldError> {
        let fees = std::iter::once(self.fee).chain(self.region_fees.values().copied());
        if fees
            .chain([self.free_over])
            .any(|f| !(0..=MAX_PRICE).contains(&f))
        {
            return Err(FieldError::new(
                "shipping",
                format!("fees must be between 0 and {MAX_PRICE} fen"),
            ));
        }
        if self.region_fees.len() > 64 || self.region_fees.keys().any(|r| r.trim().is_empty()) {
            return Err(FieldError::new(
                "shipping.region_fees",
                "at most 64 named regions",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Store {
    pub id: Id,
    /// The organisation that runs the store.
    pub org_slug: String,
    pub name: String,
    pub description: String,
    /// The organisation is verified by Hongshu: the store shows the official badge.
    pub verified: bool,
    pub currency: String,
    pub shipping: Shipping,
    /// The logo's card-size image.
    pub logo_url: Option<String>,
    #[serde(skip)]
    pub logo_media_id: Option<Id>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    #[default]
    Draft,
    OnSale,
    OffSale,
}

impl ProductState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductState::Draft => "draft",
            ProductState::OnSale => "on_sale",
            ProductState::OffSale => "off_sale",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sku {
    pub id: Id,
    pub code: String,
    /// The variant, e.g. "Red / M".
    pub name: String,
    /// In fen.
    pub price: i64,
    pub stock: i64,
    pub weight_g: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: Id,
    pub store_id: Id,
    pub store_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub state: ProductState,
    /// What a creator earns on sales from their notes, in percent (0: no commission).
    pub commission_percent: i64,
    pub currency: String,
    pub media: Vec<Media>,
    pub skus: Vec<Sku>,
    /// Units sold.
    pub sold: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    /// The lowest price among the SKUs, for cards and lists.
    pub fn price_from(&self) -> i64 {
        self.skus.iter().map(|s| s.price).min().unwrap_or(0)
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SkuDraft {
    pub code: String,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    #[serde(default)]
    pub weight_g: i64,
}

impl SkuDraft {
    /// Checks one SKU; `at` names it in errors (`skus[2].price`).
    pub fn check(&self, at: &str, fields: &mut Fields) {
        let code = format!("{at}.code");
        fields.check(crate::accounts::types::parse_line(&code, &self.code, 40));
        fields.check(crate::accounts::types::parse_line(
            &format!("{at}.name"),
            &self.name,
            40,
        ));
        fields.check(in_range(&format!("{at}.price"), self.price, 1, MAX_PRICE));
        fields.check(in_range(&format!("{at}.stock"), self.stock, 0, MAX_STOCK));
        fields.check(in_range(
            &format!("{at}.weight_g"),
            self.weight_g,
            0,
            1_000_000,
        ));
    }
}

/// A whole number within bounds, or a field error saying which.
pub fn in_range(field: &str, value: i64, min: i64, max: i64) -> Result<i64, FieldError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

impl store::TextState for ProductState {
    const WHAT: &'static str = "product state";
    const ALL: &'static [ProductState] = &[
        ProductState::Draft,
        ProductState::OnSale,
        ProductState::OffSale,
    ];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}
