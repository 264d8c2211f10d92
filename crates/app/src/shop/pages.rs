//! The mall's pages: the shop front and product pages.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use kernel::{Id, PageRequest};
use serde::Deserialize;

use super::service::{self, ProductDraft, SkuChange};
use super::types::{Product, ProductState, SkuDraft, Store};
use crate::accounts::types::User;
use crate::error::{AppError, AppResult, FieldError};
use crate::media::service as media_service;
use crate::media::types::Media;
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery, AuthUser, CsrfForm};
use crate::web::pages::{parse_ids, render, FormState, PageCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shop", get(shop_page))
        .route("/stores/{id}", get(store_page))
        .route("/products/{id}", get(product_page))
        .route("/stores/{id}/manage", get(manage_page))
        .route(
            "/stores/{id}/products/new",
            get(new_product_page).post(create_product),
        )
        .route("/products/{id}/state", post(set_state))
        .route("/skus/{id}/edit", post(edit_sku))
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    ctx: PageCtx,
    store: Store,
    products: Vec<Product>,
    next_cursor: Option<String>,
}

/// The store's back office: every product in every state, its SKUs' prices and stock.
async fn manage_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    service::require_staff(&state, &user, id).await?;
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(50),
    };
    let found = service::products(&state, Some(&user), Some(id), None, &page).await?;
    let view = ManagePage {
        ctx,
        store: service::get_store(&state, id).await?,
        products: found.items,
        next_cursor: found.next_cursor,
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "product_form.html")]
struct ProductFormPage {
    ctx: PageCtx,
    store: Store,
    form: FormState,
    media: Vec<Media>,
    rows: Vec<SkuRow>,
    categories: [&'static str; 5],
}

/// One variant row of the product form, as typed.
#[derive(Default)]
struct SkuRow {
    name: String,
    code: String,
    /// Yuan, such as `129.00`.
    price: String,
    stock: String,
    weight_g: String,
    /// What is wrong with the row, by field, when the form was refused.
    problems: Vec<(String, String)>,
}

impl SkuRow {
    fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.code,
            &self.price,
            &self.stock,
            &self.weight_g,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }

    /// The variant, or what is wrong with its numbers, named as the API names them
    /// (`skus[1].price`).
    fn draft(&self, at: usize) -> Result<SkuDraft, Vec<FieldError>> {
        let whole = |field: &str, text: &str| match text.trim() {
            "" => Ok(0),
            text => text.parse::<i64>().map_err(|_| {
                FieldError::new(format!("skus[{at}].{field}"), "must be a whole number")
            }),
        };
        let price = kernel::money::minor_units(self.price.trim()).ok_or_else(|| {
            FieldError::new(
                format!("skus[{at}].price"),
                "must be an amount in yuan, such as 129.00",
            )
        });
        let (stock, weight_g) = (
            whole("stock", &self.stock),
            whole("weight_g", &self.weight_g),
        );
        match (price, stock, weight_g) {
            (Ok(price), Ok(stock), Ok(weight_g)) => Ok(SkuDraft {
                code: self.code.trim().to_owned(),
                name: self.name.trim().to_owned(),
                price,
                stock,
                weight_g,
            }),
            (price, stock, weight_g) => Err([price.err(), stock.err(), weight_g.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

/// Blank variant rows the product form offers beyond those filled in.
const BLANK_ROWS: usize = 3;

#[derive(Deserialize)]
struct ProductForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    commission_percent: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    media_ids: String,
    /// Variant rows arrive as `sku_<field>_<row>`, such as `sku_price_0`.
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

impl ProductForm {
    /// The variant rows filled in, in order.
    fn rows(&self) -> Vec<SkuRow> {
        let field = |name: &str, row: usize| {
            self.fields
                .get(&format!("sku_{name}_{row}"))
                .cloned()
                .unwrap_or_default()
        };
        let count = self
            .fields
            .keys()
            .filter_map(|k| k.rsplit('_').next()?.parse::<usize>().ok())
            .max()
            .map_or(0, |last| last + 1);
        (0..count.min(MAX_FORM_ROWS))
            .map(|row| SkuRow {
                name: field("name", row),
                code: field("code", row),
                price: field("price", row),
                stock: field("stock", row),
                weight_g: field("weight_g", row),
                problems: Vec::new(),
            })
            .filter(|row| !row.is_blank())
            .collect()
    }

    /// The product as the service takes it, or every field at fault.
    fn drafts(&self, rows: &[SkuRow]) -> AppResult<(ProductDraft, Vec<SkuDraft>)> {
        let mut errors = Vec::new();
        let commission_percent = match self.commission_percent.trim() {
            "" => 0,
            text => text.parse::<i64>().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    "commission_percent",
                    "must be a whole number from 0 to 80",
                ));
                0
            }),
        };
        let mut skus = Vec::new();
        for (at, row) in rows.iter().enumerate() {
            match row.draft(at) {
                Ok(sku) => skus.push(sku),
                Err(found) => errors.extend(found),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let draft = ProductDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            state: match self.state.as_str() {
                "on_sale" => ProductState::OnSale,
                _ => ProductState::Draft,
            },
            commission_percent,
            media_ids: parse_ids(&self.media_ids),
        };
        Ok((draft, skus))
    }

    fn values(&self) -> Vec<(&'static str, String)> {
        vec![
            ("title", self.title.clone()),
            ("description", self.description.clone()),
            ("category", self.category.clone()),
            ("commission_percent", self.commission_percent.clone()),
            ("state", self.state.clone()),
            ("media_ids", self.media_ids.clone()),
        ]
    }
}

/// The most variant rows one form is read for.
const MAX_FORM_ROWS: usize = 100;

/// The product form, empty or as it was refused.
async fn product_form(
    state: &AppState,
    ctx: PageCtx,
    user: &User,
    store: Id,
    form: FormState,
    mut rows: Vec<SkuRow>,
    status: StatusCode,
) -> AppResult<Response> {
    let media =
        media_service::owned_in_order(state, user, &parse_ids(form.value("media_ids"))).await?;
    for (at, row) in rows.iter_mut().enumerate() {
        let prefix = format!("skus[{at}].");
        row.problems = form
            .errors
            .iter()
            .filter_map(|e| Some((e.field.strip_prefix(&prefix)?.to_owned(), e.detail.clone())))
            .collect();
    }
    rows.extend((0..BLANK_ROWS).map(|_| SkuRow::default()));
    let view = ProductFormPage {
        ctx,
        store: service::get_store(state, store).await?,
        form,
        media,
        rows,
        categories: CATEGORIES,
    };
    render(status, &view)
}

async fn new_product_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Response> {
    service::require_staff(&state, &user, id).await?;
    let form = FormState::default();
    product_form(&state, ctx, &user, id, form, Vec::new(), StatusCode::OK).await
}

/// Adds a product from the form; a refused form comes back with its errors beside its fields.
async fn create_product(
    State(state): State<AppState>,
    ctx: PageCtx,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> AppResult<Response> {
    let rows = form.rows();
    let created = match form.drafts(&rows) {
        Ok((draft, skus)) => service::create_product(&state, &user, id, &draft, &skus).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(Redirect::to(&format!("/stores/{id}/manage")).into_response()),
        Err(err) => {
            let (status, refused) = FormState::refused(form.values(), err)?;
            product_form(&state, ctx, &user, id, refused, rows, status).await
        }
    }
}

#[derive(Deserialize)]
struct StateForm {
    state: ProductState,
}

async fn set_state(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<StateForm>,
) -> AppResult<Response> {
    let product = service::set_state(&state, &user, id, form.state).await?;
    Ok(Redirect::to(&format!("/stores/{}/manage", product.store_id)).into_response())
}

#[derive(Deserialize)]
struct SkuForm {
    /// Yuan, as merchants write prices: `129.00`.
    price: String,
    stock: i64,
}

async fn edit_sku(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Id>,
    CsrfForm(form): CsrfForm<SkuForm>,
) -> AppResult<Response> {
    let price = kernel::money::minor_units(form.price.trim())
        .ok_or_else(|| AppError::invalid("price", "must be an amount in yuan, such as 129.00"))?;
    let change = SkuChange {
        name: None,
        price: Some(price),
        stock: Some(form.stock),
        weight_g: None,
    };
    service::update_sku(&state, &user, id, &change).await?;
    let product = super::store::product_of_sku(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("sku"))?;
    let product = service::product(&state, Some(&user), product).await?;
    Ok(Redirect::to(&format!("/stores/{}/manage", product.store_id)).into_response())
}

/// The categories the shop front offers as tabs.
const CATEGORIES: [&str; 5] = ["beauty", "fashion", "outdoor", "home", "food"];

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    ctx: PageCtx,
    category: String,
    /// The category tabs: (name, is the current one).
    tabs: Vec<(&'static str, bool)>,
    products: Vec<Product>,
    next_cursor: Option<String>,
    /// The stores the reader works for, with a way into their back office.
    my_stores: Vec<Store>,
    /// The best sellers, on the shop front's first page.
    popular: Vec<Product>,
    /// The store whose page this is, if it is one.
    store: Option<Store>,
}

#[derive(Deserialize)]
struct ShopParams {
    category: Option<String>,
    cursor: Option<String>,
}

async fn shop_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(24),
    };
    let category = params.category.unwrap_or_default();
    let filter = Some(category.as_str()).filter(|c| !c.is_empty());
    let found = service::products(&state, None, None, filter, &page).await?;
    let tabs = CATEGORIES.iter().map(|c| (*c, *c == category)).collect();
    let my_stores = match &ctx.user {
        Some(user) => service::stores_of(&state, user).await?,
        None => Vec::new(),
    };
    let first_page = page.cursor.is_none() && category.is_empty();
    let popular = match first_page {
        true => service::best_selling(&state, 6).await?,
        false => Vec::new(),
    };
    let view = ShopPage {
        popular,
        store: None,
        my_stores,
        ctx,
        tabs,
        category,
        products: found.items,
        next_cursor: found.next_cursor,
    };
    render(StatusCode::OK, &view)
}

/// A store's own page: its name, badge and description, and its products on sale.
async fn store_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ShopParams>,
) -> AppResult<Response> {
    let store = service::get_store(&state, id).await?;
    let page = PageRequest {
        cursor: params.cursor,
        limit: Some(24),
    };
    let found = service::products(&state, None, Some(id), None, &page).await?;
    let view = ShopPage {
        ctx,
        category: String::new(),
        tabs: Vec::new(),
        products: found.items,
        next_cursor: found.next_cursor,
        my_stores: Vec::new(),
        popular: Vec::new(),
        store: Some(store),
    };
    render(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    ctx: PageCtx,
    product: Product,
    verified: bool,
    /// The note the reader came from: its author earns the commission on what they buy.
    from_note: Option<Id>,
    reviews: Vec<crate::orders::types::Review>,
}

#[derive(Deserialize)]
struct ProductParams {
    note: Option<Id>,
}

async fn product_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(params): ApiQuery<ProductParams>,
) -> AppResult<Response> {
    let product = service::product(&state, ctx.user.as_ref(), id).await?;
    let store = service::get_store(&state, product.store_id).await?;
    let first = PageRequest {
        cursor: None,
        limit: Some(20),
    };
    let reviews = crate::orders::service::reviews(&state, product.id, &first).await?;
    let view = ProductPage {
        ctx,
        product,
        verified: store.verified,
        from_note: params.note,
        reviews: reviews.items,
    };
    render(StatusCode::OK, &view)
}
