//! Payments: providers take the buyer's money and tell Hongshu in signed notifications; a
//! verified notification pays the order once, and the money enters the ledger.

pub mod after_sales;
pub mod alipay;
pub mod api;
pub mod audit;
mod keys;
pub mod pages;
pub mod providers;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod types;
pub mod wechatpay;
