//! The SQL of stores, products and SKUs.

use std::collections::HashMap;

use kernel::{Id, Timestamp};
use store::{query, query_as, Db, TextState, Tx};

use super::types::{Product, ProductState, Shipping, Sku, Store};
use crate::media::store as media_store;
use crate::media::types::object_url;

type StoreRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

const STORE_SELECT: &str = "SELECT s.id, o.slug, s.name, s.description, o.verified, s.currency, \
    s.shipping_fee, s.free_over, s.region_fees, s.created_at, s.logo_media_id, m.card_key \
    FROM stores s JOIN orgs o ON o.id = s.org_id LEFT JOIN media m ON m.id = s.logo_media_id";

fn to_store(r: StoreRow) -> Store {
    Store {
        id: Id::from_i64(r.0),
        org_slug: r.1,
        name: r.2,
        description: r.3,
        verified: store::flag(r.4),
        currency: r.5,
        shipping: Shipping {
            fee: r.6,
            free_over: r.7,
            region_fees: serde_json::from_str(&r.8).unwrap_or_default(),
        },
        created_at: Timestamp::from_millis(r.9),
        logo_media_id: r.10.map(Id::from_i64),
        logo_url: r.11.filter(|k| !k.is_empty()).map(|k| object_url(&k)),
    }
}

pub async fn insert_store(db: &Db, org: Id, store: &Store) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO stores (id, org_id, name, description, currency, shipping_fee, free_over, \
         region_fees, created_at, logo_media_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(store.id.as_i64())
    .bind(org.as_i64())
    .bind(&store.name)
    .bind(&store.description)
    .bind(&store.currency)
    .bind(store.shipping.fee)
    .bind(store.shipping.free_over)
    .bind(region_fees(&store.shipping))
    .bind(store.created_at.as_millis())
    .bind(store.logo_media_id.map(Id::as_i64))
    .execute(db.writer())
    .await?;
    Ok(())
}

pub async fn update_store(tx: &mut Tx, store: &Store) -> Result<(), sqlx::Error> {
    query(
        "UPDATE stores SET name = $1, description = $2, shipping_fee = $3, free_over = $4, \
         region_fees = $5, logo_media_id = $6 WHERE id = $7",
    )
    .bind(&store.name)
    .bind(&store.description)
    .bind(store.shipping.fee)
    .bind(store.shipping.free_over)
    .bind(region_fees(&store.shipping))
    .bind(store.logo_media_id.map(Id::as_i64))
    .bind(store.id.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn region_fees(shipping: &Shipping) -> String {
    serde_json::to_string(&shipping.region_fees).unwrap_or_else(|_| "{}".into())
}

pub async fn store_by_id(db: &Db, id: Id) -> Result<Option<Store>, sqlx::Error> {
    store_where(db, "s.id", id).await
}

pub async fn store_of_org(db: &Db, org: Id) -> Result<Option<Store>, sqlx::Error> {
    store_where(db, "s.org_id", org).await
}

/// The store whose `column` holds `id`.
async fn store_where(db: &Db, column: &str, id: Id) -> Result<Option<Store>, sqlx::Error> {
    let sql = format!("{STORE_SELECT} WHERE {column} = $1");
    let row: Option<StoreRow> = query_as(&sql)
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(to_store))
}

/// The organisation running a store.
pub async fn org_of_store(db: &Db, store: Id) -> Result<Option<Id>, sqlx::Error> {
    let org: Option<i64> = store::query_scalar("SELECT org_id FROM stores WHERE id = $1")
        .bind(store.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(org.map(Id::from_i64))
}

pub async fn stores(db: &Db, limit: u32) -> Result<Vec<Store>, sqlx::Error> {
    let sql = format!("{STORE_SELECT} ORDER BY s.id DESC LIMIT $1");
    let rows: Vec<StoreRow> = query_as(&sql)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(to_store).collect())
}

/// A product's own row, before its media and SKUs are added.
type ProductRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    i64,
);

const PRODUCT_SELECT: &str =
    "SELECT p.id, p.store_id, s.name, p.title, p.description, p.category, \
    p.state, p.commission_bp, s.currency, p.sold, p.created_at, p.updated_at \
    FROM products p JOIN stores s ON s.id = p.store_id";

fn to_product(r: ProductRow) -> Result<Product, sqlx::Error> {
    Ok(Product {
        id: Id::from_i64(r.0),
        store_id: Id::from_i64(r.1),
        store_name: r.2,
        title: r.3,
        description: r.4,
        category: r.5,
        state: ProductState::from_db(&r.6)?,
        commission_percent: r.7 / 100,
        currency: r.8,
        media: Vec::new(),
        skus: Vec::new(),
        sold: r.9,
        created_at: Timestamp::from_millis(r.10),
        updated_at: Timestamp::from_millis(r.11),
    })
}

/// Inserts a product with its media and SKUs.
pub async fn insert_product(tx: &mut Tx, product: &Product) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO products (id, store_id, title, description, category, state, commission_bp, \
         sold, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
    )
    .bind(product.id.as_i64())
    .bind(product.store_id.as_i64())
    .bind(&product.title)
    .bind(&product.description)
    .bind(&product.category)
    .bind(product.state.as_str())
    .bind(product.commission_percent * 100)
    .bind(product.created_at.as_millis())
    .execute(&mut **tx)
    .await?;
    set_media(tx, product).await?;
    for sku in &product.skus {
        insert_sku(tx, product.id, sku).await?;
    }
    Ok(())
}

/// Replaces what a merchant may edit of a product (its SKUs change one by one).
pub async fn update_product(tx: &mut Tx, product: &Product) -> Result<(), sqlx::Error> {
    query(
        "UPDATE products SET title = $1, description = $2, category = $3, state = $4, \
         commission_bp = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&product.title)
    .bind(&product.description)
    .bind(&product.category)
    .bind(product.state.as_str())
    .bind(product.commission_percent * 100)
    .bind(product.updated_at.as_millis())
    .bind(product.id.as_i64())
    .execute(&mut **tx)
    .await?;
    query("DELETE FROM product_media WHERE product_id = $1")
        .bind(product.id.as_i64())
        .execute(&mut **tx)
        .await?;
    set_media(tx, product).await
}

async fn set_media(tx: &mut Tx, product: &Product) -> Result<(), sqlx::Error> {
    for (position, media) in product.media.iter().enumerate() {
        query("INSERT INTO product_media (product_id, position, media_id) VALUES ($1, $2, $3)")
            .bind(product.id.as_i64())
            .bind(position as i64)
            .bind(media.id.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn insert_sku(tx: &mut Tx, product: Id, sku: &Sku) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO skus (id, product_id, code, name, price, stock, weight_g) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(sku.id.as_i64())
    .bind(product.as_i64())
    .bind(&sku.code)
    .bind(&sku.name)
    .bind(sku.price)
    .bind(sku.stock)
    .bind(sku.weight_g)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a SKU's price and the stock on hand.
pub async fn update_sku(tx: &mut Tx, sku: &Sku) -> Result<(), sqlx::Error> {
    query("UPDATE skus SET name = $1, price = $2, stock = $3, weight_g = $4 WHERE id = $5")
        .bind(&sku.name)
        .bind(sku.price)
        .bind(sku.stock)
        .bind(sku.weight_g)
        .bind(sku.id.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The product a SKU belongs to.
pub async fn product_of_sku(db: &Db, sku: Id) -> Result<Option<Id>, sqlx::Error> {
    let product: Option<i64> = store::query_scalar("SELECT product_id FROM skus WHERE id = $1")
        .bind(sku.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(product.map(Id::from_i64))
}

/// Which products to list.
pub enum Listing {
    /// One store's products, in every state when `all`, else those on sale.
    Store { store: Id, all: bool },
    /// Every product on sale, newest first.
    OnSale,
    /// On sale, in one category.
    Category(String),
    /// On sale, tagged in this note.
    TaggedIn(Id),
    /// On sale and sold at least once, most sold first (one page only).
    BestSelling,
    /// On sale, among these (search hits).
    Among(Vec<Id>),
}

/// A page of products, newest first, with media and SKUs.
pub async fn products(
    db: &Db,
    listing: &Listing,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Product>, sqlx::Error> {
    let before = before.unwrap_or(i64::MAX);
    let (filter, text) = match listing {
        Listing::Store { store, all: true } => (format!("p.store_id = {}", store.as_i64()), None),
        Listing::Store { store, all: false } => (
            format!("p.store_id = {} AND p.state = 'on_sale'", store.as_i64()),
            None,
        ),
        Listing::OnSale => ("p.state = 'on_sale'".to_owned(), None),
        Listing::Category(category) => (
            "p.state = 'on_sale' AND p.category = $3".to_owned(),
            Some(category.as_str()),
        ),
        Listing::TaggedIn(note) => (
            format!(
                "p.state = 'on_sale' AND p.id IN \
                 (SELECT product_id FROM note_products WHERE note_id = {})",
                note.as_i64()
            ),
            None,
        ),
        Listing::BestSelling => ("p.state = 'on_sale' AND p.sold > 0".to_owned(), None),
        Listing::Among(ids) if ids.is_empty() => return Ok(Vec::new()),
        Listing::Among(ids) => {
            let ids: Vec<String> = ids.iter().map(|id| id.as_i64().to_string()).collect();
            let list = ids.join(", ");
            (format!("p.state = 'on_sale' AND p.id IN ({list})"), None)
        }
    };
    let order = match listing {
        Listing::BestSelling => "p.sold DESC, p.id DESC",
        _ => "p.id DESC",
    };
    let sql = format!("{PRODUCT_SELECT} WHERE {filter} AND p.id < $1 ORDER BY {order} LIMIT $2");
    let mut q = query_as::<_, ProductRow>(&sql)
        .bind(before)
        .bind(i64::from(limit));
    if let Some(text) = text {
        q = q.bind(text);
    }
    let rows = q.fetch_all(db.pool()).await?;
    complete(
        db,
        rows.into_iter().map(to_product).collect::<Result<_, _>>()?,
    )
    .await
}

pub async fn product(db: &Db, id: Id) -> Result<Option<Product>, sqlx::Error> {
    let sql = format!("{PRODUCT_SELECT} WHERE p.id = $1");
    let row: Option<ProductRow> = query_as(&sql)
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    Ok(complete(
        db,
        row.into_iter().map(to_product).collect::<Result<_, _>>()?,
    )
    .await?
    .pop())
}

/// Adds media and SKUs to products: three queries however many products.
async fn complete(db: &Db, mut products: Vec<Product>) -> Result<Vec<Product>, sqlx::Error> {
    if products.is_empty() {
        return Ok(products);
    }
    let ids: Vec<i64> = products.iter().map(|p| p.id.as_i64()).collect();
    let list = store::values_placeholders(db.backend(), 1, ids.len());
    let sql = format!(
        "SELECT product_id, id, code, name, price, stock, weight_g FROM skus \
         WHERE product_id IN {list} ORDER BY product_id, id"
    );
    let skus = store::bind_all(
        query_as::<_, (i64, i64, String, String, i64, i64, i64)>(&sql),
        ids.iter().copied(),
    )
    .fetch_all(db.pool())
    .await?;
    let mut by_product: HashMap<i64, Vec<Sku>> = HashMap::new();
    for (product, id, code, name, price, stock, weight_g) in skus {
        by_product.entry(product).or_default().push(Sku {
            id: Id::from_i64(id),
            code,
            name,
            price,
            stock,
            weight_g,
        });
    }
    let sql = format!(
        "SELECT product_id, media_id FROM product_media WHERE product_id IN {list} \
         ORDER BY product_id, position"
    );
    let links = store::bind_all(query_as::<_, (i64, i64)>(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?;
    let media_ids: Vec<Id> = links.iter().map(|l| Id::from_i64(l.1)).collect();
    let media = media_store::by_ids(db, &media_ids).await?;
    for product in &mut products {
        let id = product.id.as_i64();
        product.skus = by_product.remove(&id).unwrap_or_default();
        product.media = links
            .iter()
            .filter(|l| l.0 == id)
            .filter_map(|l| media.iter().find(|m| m.id.as_i64() == l.1).cloned())
            .collect();
    }
    Ok(products)
}
