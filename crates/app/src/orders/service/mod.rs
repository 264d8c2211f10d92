//! The rules of buying: addresses, the cart, checkout with stock reservation and idempotency
//! keys, an order's life from payment to completion, and the money it moves on completion — one
//! module per subject, all reached as `orders::service`.

use std::collections::{BTreeMap, HashMap};

use ::store::Tx;
use kernel::{Currency, Id, Page, PageRequest, Timestamp};
use sha2::{Digest, Sha256};

use super::store::{self, Orders};
use super::types::{
    Address, AddressDraft, AfterSale, AfterSaleKind, AfterSaleStatus, CartItem, CheckoutRequest,
    Happening, LineRequest, Order, OrderEvent, OrderItem, OrderStatus, Review, ReviewDraft,
};
use crate::accounts::types::User;
use crate::changes::types::Change;
use crate::error::{AppError, AppResult, FieldError};
use crate::ledger::postings::{self, OrderBook, Split};
use crate::ledger::types::Part;
use crate::shop::service as shop;
use crate::shop::types::{in_range, MAX_QUANTITY};
use crate::state::AppState;
use crate::web::page_bounds;

mod after_sales;
mod cart;
mod checkout;
mod lifecycle;
mod money;
mod reviews;
mod statements;

pub use after_sales::*;
pub use cart::*;
pub use checkout::*;
pub use lifecycle::*;
pub use money::*;
pub use reviews::*;
pub use statements::*;

pub(super) fn one(error: FieldError) -> AppError {
    AppError::Validation(vec![error])
}

/// Who is looking at an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Merchant,
}

/// An order as its buyer or its store's staff see it; anyone else is refused.
pub async fn order_for(state: &AppState, viewer: &User, id: Id) -> AppResult<(Order, Party)> {
    let order = store::order(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if order.buyer_id == viewer.id {
        return Ok((order, Party::Buyer));
    }
    match shop::require_staff(state, viewer, order.store_id).await {
        Ok(_) => Ok((order, Party::Merchant)),
        Err(_) => Err(AppError::Forbidden(
            "only the buyer and the store's staff may see this order",
        )),
    }
}

pub async fn order(state: &AppState, viewer: &User, id: Id) -> AppResult<Order> {
    Ok(order_for(state, viewer, id).await?.0)
}

pub async fn my_orders(
    state: &AppState,
    buyer: &User,
    page: &PageRequest,
) -> AppResult<Page<Order>> {
    let (size, before) = page_bounds(page)?;
    let rows = store::orders(&state.db, &Orders::Buyer(buyer.id), before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |o| o.id.as_i64()))
}

/// A store's orders, newest first, optionally in one status (its staff only).
pub async fn store_orders(
    state: &AppState,
    staff: &User,
    store_id: Id,
    status: Option<OrderStatus>,
    after_sales: bool,
    page: &PageRequest,
) -> AppResult<Page<Order>> {
    shop::require_staff(state, staff, store_id).await?;
    let (size, before) = page_bounds(page)?;
    let which = Orders::Store {
        store: store_id,
        status,
        after_sales,
    };
    let rows = store::orders(&state.db, &which, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |o| o.id.as_i64()))
}
