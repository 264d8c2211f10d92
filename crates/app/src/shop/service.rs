//! The rules of the mall's catalogue: who may open a store and sell in it, what a product must
//! hold, and who sees products that are not on sale.

use ::store::Tx;
use kernel::{Currency, Id, Page, PageRequest, Timestamp};
use serde::Deserialize;
use utoipa::ToSchema;

use super::store::{self, Listing};
use super::types::{in_range, Product, ProductState, Shipping, Sku, SkuDraft, Store};
use crate::accounts::types::{parse_line, Fields, User};
use crate::changes::types::Change;
use crate::error::{AppError, AppResult, FieldError};
use crate::media::types::{Media, MediaKind};
use crate::notes::types::parse_text;
use crate::orgs::service as orgs;
use crate::state::AppState;
use crate::web::page_bounds;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StoreDraft {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub shipping: Shipping,
    /// One of the caller's images.
    #[serde(default)]
    pub logo_media_id: Option<Id>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ProductDraft {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub state: ProductState,
    /// 0 (none) or 1–80.
    #[serde(default)]
    pub commission_percent: i64,
    /// 1–9 of the caller's images, the first on cards.
    pub media_ids: Vec<Id>,
}

/// The most SKUs one product may have.
const MAX_SKUS: usize = 100;

/// A store's staff: staff and owners of the organisation that runs it.
/// Checks that the actor works for the store's organisation; that organisation.
pub async fn require_staff(state: &AppState, actor: &User, store: Id) -> AppResult<Id> {
    let org = store::org_of_store(&state.db, store)
        .await?
        .ok_or(AppError::NotFound("store"))?;
    if orgs::is_staff(state, actor, org).await? {
        Ok(org)
    } else {
        Err(AppError::Forbidden("only the store's staff may do this"))
    }
}

/// A store draft checked: name, description, shipping, and a logo that is an image of the
/// organisation's staff (its card-size address).
async fn check_store(
    state: &AppState,
    org: Id,
    draft: &StoreDraft,
) -> AppResult<(String, String, Option<String>)> {
    let mut fields = Fields::default();
    let name = fields.check(parse_line("name", &draft.name, 40));
    let description = fields.check(parse_text("description", &draft.description, 500, false));
    let shipping = fields.check(draft.shipping.check());
    let logo = match draft.logo_media_id {
        Some(id) => fields.check(
            product_media(state, org, &[id])
                .await?
                .map(|media| media[0].card_url.clone())
                .map_err(|_| {
                    FieldError::new("logo_media_id", "must be an image your staff uploaded")
                }),
        ),
        None => Some(None),
    };
    let ((name, description), logo) = fields.finish(
        name.zip(description)
            .zip(shipping)
            .map(|(named, ())| named)
            .zip(logo),
    )?;
    Ok((name, description, logo))
}

/// An organisation's staff open its store (one per organisation), selling in yuan.
pub async fn open_store(
    state: &AppState,
    actor: &User,
    org_slug: &str,
    draft: &StoreDraft,
) -> AppResult<Store> {
    let org = orgs::by_slug(state, org_slug).await?;
    if !orgs::is_staff(state, actor, org.id).await? {
        return Err(AppError::Forbidden(
            "only the organisation's staff may open its store",
        ));
    }
    let (name, description, logo_url) = check_store(state, org.id, draft).await?;
    let store = Store {
        id: state.ids.next_id(),
        org_slug: org.slug,
        name,
        description,
        verified: org.verified,
        currency: Currency::CNY.code().to_owned(),
        shipping: draft.shipping.clone(),
        logo_url,
        logo_media_id: draft.logo_media_id,
        created_at: Timestamp::now(),
    };
    match store::insert_store(&state.db, org.id, &store).await {
        Err(e) => Err(AppError::taken(
            "org",
            "this organisation already has a store",
        )(e)),
        Ok(()) => Ok(store),
    }
}

pub async fn update_store(
    state: &AppState,
    actor: &User,
    id: Id,
    draft: &StoreDraft,
) -> AppResult<Store> {
    let org = require_staff(state, actor, id).await?;
    let (name, description, logo_url) = check_store(state, org, draft).await?;
    let store = Store {
        name,
        description,
        shipping: draft.shipping.clone(),
        logo_url,
        logo_media_id: draft.logo_media_id,
        ..get_store(state, id).await?
    };
    let mut tx = state.db.begin_write().await?;
    store::update_store(&mut tx, &store).await?;
    let change = Change::StoreChanged { store: store.id };
    state.changes.record(&mut tx, change).await?;
    state.changes.commit(tx).await?;
    Ok(store)
}

pub async fn get_store(state: &AppState, id: Id) -> AppResult<Store> {
    store::store_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("store"))
}

pub async fn store_of_org(state: &AppState, org_slug: &str) -> AppResult<Store> {
    let org = orgs::by_slug(state, org_slug).await?;
    store::store_of_org(&state.db, org.id)
        .await?
        .ok_or(AppError::NotFound("store"))
}

/// The stores of the organisations a member works for.
pub async fn stores_of(state: &AppState, member: &User) -> AppResult<Vec<Store>> {
    let mut stores = Vec::new();
    for org in orgs::orgs_of(state, member).await? {
        stores.extend(store::store_of_org(&state.db, org.id).await?);
    }
    Ok(stores)
}

pub async fn stores(state: &AppState) -> AppResult<Vec<Store>> {
    Ok(store::stores(&state.db, 50).await?)
}

/// Checks a product draft of an organisation's store; the media must be images its staff
/// uploaded.
async fn check_product(
    state: &AppState,
    org: Id,
    draft: &ProductDraft,
) -> AppResult<(String, String, String, i64, Vec<Media>)> {
    let mut fields = Fields::default();
    let title = fields.check(parse_line("title", &draft.title, 60));
    let description = fields.check(parse_text("description", &draft.description, 2_000, false));
    let category = fields.check(parse_category(&draft.category));
    let commission = fields.check(parse_commission(draft.commission_percent));
    let media = fields.check(product_media(state, org, &draft.media_ids).await?);
    let ((((title, description), category), commission), media) = fields.finish(
        title
            .zip(description)
            .zip(category)
            .zip(commission)
            .zip(media),
    )?;
    Ok((title, description, category, commission, media))
}

/// A category is one lower-case word or short phrase, such as `beauty` or `美妆`.
fn parse_category(input: &str) -> Result<String, FieldError> {
    Ok(parse_line("category", input, 20)?.to_lowercase())
}

fn parse_commission(percent: i64) -> Result<i64, FieldError> {
    match percent {
        0..=80 => Ok(percent),
        _ => Err(FieldError::new(
            "commission_percent",
            "must be 0 (none) or between 1 and 80",
        )),
    }
}

/// The images, in order, when each was uploaded by someone on the organisation's staff (so
/// colleagues can edit each other's products).
async fn product_media(
    state: &AppState,
    org: Id,
    ids: &[Id],
) -> AppResult<Result<Vec<Media>, FieldError>> {
    let fail = |why: &str| Ok(Err(FieldError::new("media_ids", why)));
    if ids.is_empty() || ids.len() > 9 {
        return fail("must name 1 to 9 images");
    }
    let staff = orgs::staff_ids(state, org).await?;
    let owned: Vec<Media> = crate::media::service::by_ids(state, ids)
        .await?
        .into_iter()
        .filter(|m| staff.contains(&m.owner_id))
        .collect();
    let ordered: Option<Vec<Media>> = ids
        .iter()
        .map(|id| {
            owned
                .iter()
                .find(|m| m.id == *id && m.kind == MediaKind::Image)
        })
        .map(|m| m.cloned())
        .collect();
    match ordered {
        Some(media) if media.len() == ids.len() => Ok(Ok(media)),
        _ => fail("must be images your staff uploaded"),
    }
}

/// Checks SKU drafts: each valid, codes distinct.
fn check_skus(state: &AppState, drafts: &[SkuDraft]) -> AppResult<Vec<Sku>> {
    let mut fields = Fields::default();
    if drafts.is_empty() || drafts.len() > MAX_SKUS {
        fields.check::<()>(Err(FieldError::new(
            "skus",
            format!("must hold 1 to {MAX_SKUS} SKUs"),
        )));
    }
    for (i, sku) in drafts.iter().enumerate() {
        sku.check(&format!("skus[{i}]"), &mut fields);
        if drafts[..i].iter().any(|s| s.code.trim() == sku.code.trim()) {
            fields.check::<()>(Err(FieldError::new(
                format!("skus[{i}].code"),
                "is used by another SKU",
            )));
        }
    }
    fields.finish(Some(()))?;
    Ok(drafts
        .iter()
        .map(|d| Sku {
            id: state.ids.next_id(),
            code: d.code.trim().to_owned(),
            name: d.name.trim().to_owned(),
            price: d.price,
            stock: d.stock,
            weight_g: d.weight_g,
        })
        .collect())
}

pub async fn create_product(
    state: &AppState,
    actor: &User,
    store_id: Id,
    draft: &ProductDraft,
    skus: &[SkuDraft],
) -> AppResult<Product> {
    let org = require_staff(state, actor, store_id).await?;
    let store = get_store(state, store_id).await?;
    let checked = check_product(state, org, draft).await;
    let ((title, description, category, commission_percent, media), skus) =
        AppError::together(checked, check_skus(state, skus))?;
    let now = Timestamp::now();
    let product = Product {
        id: state.ids.next_id(),
        store_id,
        store_name: store.name,
        title,
        description,
        category,
        state: draft.state,
        commission_percent,
        currency: store.currency,
        media,
        skus,
        sold: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    store::insert_product(&mut tx, &product).await?;
    product_changed(state, &mut tx, &product).await?;
    state.changes.commit(tx).await?;
    Ok(product)
}

/// Edits a product's description, state and commission; SKUs are edited one by one.
pub async fn update_product(
    state: &AppState,
    actor: &User,
    id: Id,
    draft: &ProductDraft,
) -> AppResult<Product> {
    let (current, org) = staff_product(state, actor, id).await?;
    let (title, description, category, commission_percent, media) =
        check_product(state, org, draft).await?;
    let product = Product {
        title,
        description,
        category,
        state: draft.state,
        commission_percent,
        media,
        updated_at: Timestamp::now(),
        ..current
    };
    save(state, product).await
}

/// Writes a product's edited fields and media.
async fn save(state: &AppState, product: Product) -> AppResult<Product> {
    let mut tx = state.db.begin_write().await?;
    store::update_product(&mut tx, &product).await?;
    product_changed(state, &mut tx, &product).await?;
    state.changes.commit(tx).await?;
    Ok(product)
}

/// Records in the change log that a product was listed or edited.
async fn product_changed(state: &AppState, tx: &mut Tx, product: &Product) -> AppResult<()> {
    let change = Change::ProductChanged {
        product: product.id,
        store: product.store_id,
    };
    Ok(state.changes.record(tx, change).await?)
}

/// Puts a product on sale, takes it off sale, or back to draft.
pub async fn set_state(
    state: &AppState,
    actor: &User,
    id: Id,
    to: ProductState,
) -> AppResult<Product> {
    let (current, _) = staff_product(state, actor, id).await?;
    let product = Product {
        state: to,
        updated_at: Timestamp::now(),
        ..current
    };
    save(state, product).await
}

/// A product its store's staff are working on, in any state.
/// A product the actor works on as staff, and its store's organisation.
async fn staff_product(state: &AppState, actor: &User, id: Id) -> AppResult<(Product, Id)> {
    let product = store::product(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let org = require_staff(state, actor, product.store_id).await?;
    Ok((product, org))
}

pub async fn add_sku(
    state: &AppState,
    actor: &User,
    product: Id,
    draft: &SkuDraft,
) -> AppResult<Product> {
    let (current, _) = staff_product(state, actor, product).await?;
    let sku = check_skus(state, std::slice::from_ref(draft))?.remove(0);
    let mut tx = state.db.begin_write().await?;
    store::insert_sku(&mut tx, product, &sku)
        .await
        .map_err(AppError::taken(
            "code",
            "another SKU of this product has this code",
        ))?;
    let mut product = current;
    product.skus.push(sku);
    product_changed(state, &mut tx, &product).await?;
    state.changes.commit(tx).await?;
    Ok(product)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SkuChange {
    pub name: Option<String>,
    pub price: Option<i64>,
    /// The stock on hand from now on.
    pub stock: Option<i64>,
    pub weight_g: Option<i64>,
}

/// Changes a SKU's name, price, stock on hand or weight.
pub async fn update_sku(
    state: &AppState,
    actor: &User,
    id: Id,
    change: &SkuChange,
) -> AppResult<Sku> {
    let product = store::product_of_sku(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("sku"))?;
    let (current, _) = staff_product(state, actor, product).await?;
    let sku = current
        .skus
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or(AppError::NotFound("sku"))?;
    let mut fields = Fields::default();
    let name = match &change.name {
        Some(name) => fields.check(parse_line("name", name, 40)),
        None => Some(sku.name.clone()),
    };
    let mut number = |field: &str, value: Option<i64>, current: i64, min: i64, max: i64| {
        fields.check(in_range(field, value.unwrap_or(current), min, max))
    };
    let price = number("price", change.price, sku.price, 1, super::types::MAX_PRICE);
    let stock = number("stock", change.stock, sku.stock, 0, super::types::MAX_STOCK);
    let weight = number("weight_g", change.weight_g, sku.weight_g, 0, 1_000_000);
    let (((name, price), stock), weight_g) =
        fields.finish(name.zip(price).zip(stock).zip(weight))?;
    let sku = Sku {
        name,
        price,
        stock,
        weight_g,
        ..sku
    };
    let mut tx = state.db.begin_write().await?;
    store::update_sku(&mut tx, &sku).await?;
    product_changed(state, &mut tx, &current).await?;
    state.changes.commit(tx).await?;
    Ok(sku)
}

/// A product as the viewer may see it: on sale for everyone, otherwise only for its staff.
pub async fn product(state: &AppState, viewer: Option<&User>, id: Id) -> AppResult<Product> {
    let product = store::product(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    if product.state == ProductState::OnSale {
        return Ok(product);
    }
    match viewer {
        Some(v) if require_staff(state, v, product.store_id).await.is_ok() => Ok(product),
        _ => Err(AppError::NotFound("product")),
    }
}

/// The products on sale that a note tags, at most `limit`. Whether the viewer may see the note
/// is the notes service's to say (its `tagged_products` asks it first).
pub async fn tagged_in(state: &AppState, note: Id, limit: u32) -> AppResult<Vec<Product>> {
    let listing = Listing::TaggedIn(note);
    Ok(store::products(&state.db, &listing, None, limit).await?)
}

/// Which of these products are on sale, in no particular order.
pub async fn on_sale_among(state: &AppState, ids: &[Id]) -> AppResult<Vec<Product>> {
    let listing = Listing::Among(ids.to_vec());
    let limit = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    Ok(store::products(&state.db, &listing, None, limit).await?)
}

/// The mall's best sellers.
pub async fn best_selling(state: &AppState, count: u32) -> AppResult<Vec<Product>> {
    Ok(store::products(&state.db, &Listing::BestSelling, None, count).await?)
}

/// Products on sale, newest first: in one store, one category, or the whole mall. A store's
/// staff also see its drafts and products off sale.
pub async fn products(
    state: &AppState,
    viewer: Option<&User>,
    store: Option<Id>,
    category: Option<&str>,
    page: &PageRequest,
) -> AppResult<Page<Product>> {
    let (size, before) = page_bounds(page)?;
    let listing = match (store, category) {
        (Some(store), _) => {
            let all = match viewer {
                Some(v) => require_staff(state, v, store).await.is_ok(),
                None => false,
            };
            Listing::Store { store, all }
        }
        (None, Some(category)) => Listing::Category(category.trim().to_lowercase()),
        (None, None) => Listing::OnSale,
    };
    let rows = store::products(&state.db, &listing, before, size + 1).await?;
    Ok(Page::from_rows(rows, size, |p| p.id.as_i64()))
}
