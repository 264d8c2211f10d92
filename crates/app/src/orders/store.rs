//! The SQL of addresses, carts, checkouts and orders.

use kernel::{Id, Timestamp};
use store::{query, query_as, query_scalar, Db, TextState, Tx};

use super::types::{
    Address, AddressDraft, AfterSale, AfterSaleKind, AfterSaleStatus, CartItem, Happening,
    LineRequest, Order, OrderEvent, OrderItem, OrderStatus, Review,
};
use crate::media::types::object_url;
use crate::notes::types::Author;

pub async fn insert_address(db: &Db, user: Id, address: &Address) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO addresses (id, user_id, name, phone, region, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(address.id.as_i64())
    .bind(user.as_i64())
    .bind(&address.to.name)
    .bind(&address.to.phone)
    .bind(&address.to.region)
    .bind(&address.to.detail)
    .bind(address.created_at.as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

type AddressRow = (i64, String, String, String, String, i64);

fn to_address(r: AddressRow) -> Address {
    Address {
        id: Id::from_i64(r.0),
        to: AddressDraft {
            name: r.1,
            phone: r.2,
            region: r.3,
            detail: r.4,
        },
        created_at: Timestamp::from_millis(r.5),
    }
}

pub async fn addresses(db: &Db, user: Id) -> Result<Vec<Address>, sqlx::Error> {
    let rows: Vec<AddressRow> = query_as(
        "SELECT id, name, phone, region, detail, created_at FROM addresses \
         WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(user.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(to_address).collect())
}

/// One of the user's addresses.
pub async fn address(db: &Db, user: Id, id: Id) -> Result<Option<Address>, sqlx::Error> {
    let row: Option<AddressRow> = query_as(
        "SELECT id, name, phone, region, detail, created_at FROM addresses \
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id.as_i64())
    .bind(user.as_i64())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(to_address))
}

pub async fn delete_address(db: &Db, user: Id, id: Id) -> Result<bool, sqlx::Error> {
    let done = query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
        .bind(id.as_i64())
        .bind(user.as_i64())
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Puts a SKU in the cart with this quantity (replacing what was there).
pub async fn put_in_cart(
    db: &Db,
    user: Id,
    line: &LineRequest,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO cart_items (user_id, sku_id, quantity, note_id, added_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, sku_id) DO UPDATE SET quantity = excluded.quantity, \
         note_id = COALESCE(excluded.note_id, cart_items.note_id)",
    )
    .bind(user.as_i64())
    .bind(line.sku_id.as_i64())
    .bind(line.quantity)
    .bind(line.note_id.map(Id::as_i64))
    .bind(now.as_millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Takes SKUs out of the cart.
pub async fn remove_from_cart(tx: &mut Tx, user: Id, skus: &[Id]) -> Result<(), sqlx::Error> {
    for sku in skus {
        query("DELETE FROM cart_items WHERE user_id = $1 AND sku_id = $2")
            .bind(user.as_i64())
            .bind(sku.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// How many units wait in the member's cart.
pub async fn cart_units(db: &Db, user: Id) -> Result<i64, sqlx::Error> {
    query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM cart_items WHERE user_id = $1",
    )
    .bind(user.as_i64())
    .fetch_one(db.pool())
    .await
}

pub async fn cart(db: &Db, user: Id) -> Result<Vec<CartItem>, sqlx::Error> {
    type Row = (
        i64,
        i64,
        i64,
        String,
        String,
        String,
        i64,
        i64,
        i64,
        String,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = query_as(
        "SELECT k.id, p.id, s.id, s.name, p.title, k.name, k.price, c.quantity, k.stock, p.state, \
         (SELECT m.card_key FROM product_media pm JOIN media m ON m.id = pm.media_id \
          WHERE pm.product_id = p.id ORDER BY pm.position LIMIT 1), c.note_id \
         FROM cart_items c JOIN skus k ON k.id = c.sku_id JOIN products p ON p.id = k.product_id \
         JOIN stores s ON s.id = p.store_id WHERE c.user_id = $1 ORDER BY s.id, c.added_at",
    )
    .bind(user.as_i64())
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CartItem {
            sku_id: Id::from_i64(r.0),
            product_id: Id::from_i64(r.1),
            store_id: Id::from_i64(r.2),
            store_name: r.3,
            title: r.4,
            sku_name: r.5,
            price: r.6,
            quantity: r.7,
            stock: r.8,
            on_sale: r.9 == "on_sale",
            image_url: r.10.map(|key| object_url(&key)),
            note_id: r.11.map(Id::from_i64),
        })
        .collect())
}

/// Records a checkout under the buyer's idempotency key. False when the key is taken: that
/// checkout was made before (or is being made by a request holding the same key).
pub async fn insert_checkout(
    tx: &mut Tx,
    id: Id,
    buyer: Id,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = query(
        "INSERT INTO checkouts (id, buyer_id, idem_key, request_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (buyer_id, idem_key) DO NOTHING",
    )
    .bind(id.as_i64())
    .bind(buyer.as_i64())
    .bind(key)
    .bind(request_hash)
    .bind(now.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The checkout made under a key: its id and the hash of its request.
pub async fn checkout_by_key(
    db: &Db,
    buyer: Id,
    key: &str,
) -> Result<Option<(Id, String)>, sqlx::Error> {
    let row: Option<(i64, String)> =
        query_as("SELECT id, request_hash FROM checkouts WHERE buyer_id = $1 AND idem_key = $2")
            .bind(buyer.as_i64())
            .bind(key)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(id, hash)| (Id::from_i64(id), hash)))
}

/// A SKU as checkout needs it.
#[derive(Debug, Clone)]
pub struct ForSale {
    pub sku: Id,
    pub product: Id,
    pub store: Id,
    pub title: String,
    pub sku_name: String,
    pub price: i64,
    pub on_sale: bool,
    pub commission_bp: i64,
}

pub async fn for_sale(db: &Db, skus: &[Id]) -> Result<Vec<ForSale>, sqlx::Error> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT k.id, p.id, p.store_id, p.title, k.name, k.price, p.state, p.commission_bp \
         FROM skus k JOIN products p ON p.id = k.product_id WHERE k.id IN {}",
        store::values_placeholders(db.backend(), 1, skus.len())
    );
    type Row = (i64, i64, i64, String, String, i64, String, i64);
    let rows: Vec<Row> = store::bind_all(query_as(&sql), skus.iter().map(|s| s.as_i64()))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ForSale {
            sku: Id::from_i64(r.0),
            product: Id::from_i64(r.1),
            store: Id::from_i64(r.2),
            title: r.3,
            sku_name: r.4,
            price: r.5,
            on_sale: r.6 == "on_sale",
            commission_bp: r.7,
        })
        .collect())
}

/// The author of a published public note that tags the product, if it does.
pub async fn tagged_by(db: &Db, note: Id, product: Id) -> Result<Option<Id>, sqlx::Error> {
    let author: Option<i64> = query_scalar(
        "SELECT n.author_id FROM note_products t JOIN notes n ON n.id = t.note_id \
         WHERE t.note_id = $1 AND t.product_id = $2 AND n.visibility = 'public' AND n.draft = 0",
    )
    .bind(note.as_i64())
    .bind(product.as_i64())
    .fetch_optional(db.pool())
    .await?;
    Ok(author.map(Id::from_i64))
}

/// Takes `quantity` units of a SKU if that many are left; false otherwise.
pub async fn reserve(tx: &mut Tx, sku: Id, quantity: i64) -> Result<bool, sqlx::Error> {
    let done = query("UPDATE skus SET stock = stock - $1 WHERE id = $2 AND stock >= $1")
        .bind(quantity)
        .bind(sku.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Units left of a SKU.
pub async fn stock(tx: &mut Tx, sku: Id) -> Result<i64, sqlx::Error> {
    query_scalar("SELECT stock FROM skus WHERE id = $1")
        .bind(sku.as_i64())
        .fetch_one(&mut **tx)
        .await
}

/// Puts an order's units back on the shelf.
pub async fn release(tx: &mut Tx, order: Id) -> Result<(), sqlx::Error> {
    query(
        "UPDATE skus SET stock = stock + (SELECT CAST(SUM(i.quantity) AS BIGINT) FROM order_items i \
         WHERE i.order_id = $1 AND i.sku_id = skus.id) \
         WHERE id IN (SELECT sku_id FROM order_items WHERE order_id = $1)",
    )
    .bind(order.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Counts an order's units as sold on their products.
pub async fn count_sold(tx: &mut Tx, order: Id) -> Result<(), sqlx::Error> {
    query(
        "UPDATE products SET sold = sold + (SELECT CAST(SUM(i.quantity) AS BIGINT) FROM order_items i \
         WHERE i.order_id = $1 AND i.product_id = products.id) \
         WHERE id IN (SELECT product_id FROM order_items WHERE order_id = $1)",
    )
    .bind(order.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_order(tx: &mut Tx, order: &Order) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO orders (id, checkout_id, buyer_id, store_id, status, currency, items_total, \
         shipping_fee, total, ship_to, carrier, tracking_number, pay_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', '', $11, $12, $12)",
    )
    .bind(order.id.as_i64())
    .bind(order.checkout_id.as_i64())
    .bind(order.buyer_id.as_i64())
    .bind(order.store_id.as_i64())
    .bind(order.status.as_str())
    .bind(&order.currency)
    .bind(order.items_total)
    .bind(order.shipping_fee)
    .bind(order.total)
    .bind(serde_json::to_string(&order.ship_to).unwrap_or_default())
    .bind(order.pay_by.as_millis())
    .bind(order.created_at.as_millis())
    .execute(&mut **tx)
    .await?;
    for (position, item) in order.items.iter().enumerate() {
        query(
            "INSERT INTO order_items (order_id, position, sku_id, product_id, title, sku_name, \
             unit_price, quantity, note_id, creator_id, commission_bp) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(order.id.as_i64())
        .bind(position as i64)
        .bind(item.sku_id.as_i64())
        .bind(item.product_id.as_i64())
        .bind(&item.title)
        .bind(&item.sku_name)
        .bind(item.unit_price)
        .bind(item.quantity)
        .bind(item.note_id.map(Id::as_i64))
        .bind(item.creator_id.map(Id::as_i64))
        .bind(item.commission_bp)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Adds a line to an order's timeline.
pub async fn insert_event(
    tx: &mut Tx,
    order: Id,
    seq: Id,
    event: &OrderEvent,
) -> Result<(), sqlx::Error> {
    query(
        "INSERT INTO order_events (order_id, seq, status, detail, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order.as_i64())
    .bind(seq.as_i64())
    .bind(event.status.as_str())
    .bind(event.happening.to_db())
    .bind(event.at.as_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves an order from one of `from` to `to`; false when it was in none of them (someone else
/// moved it first). The shipment is set when given.
pub async fn move_status(
    tx: &mut Tx,
    order: Id,
    from: &[OrderStatus],
    to: OrderStatus,
    shipment: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let (carrier, tracking) = shipment.unwrap_or_default();
    let sql = format!(
        "UPDATE orders SET status = $1, updated_at = $2, \
         carrier = CASE WHEN $3 = '' THEN carrier ELSE $3 END, \
         tracking_number = CASE WHEN $4 = '' THEN tracking_number ELSE $4 END \
         WHERE id = $5 AND status IN ({})",
        from.join(", ")
    );
    let done = query(&sql)
        .bind(to.as_str())
        .bind(now.as_millis())
        .bind(carrier)
        .bind(tracking)
        .bind(order.as_i64())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many orders a buyer holds unpaid, and how many units are in them.
pub async fn unpaid_held(tx: &mut Tx, buyer: Id) -> Result<(i64, i64), sqlx::Error> {
    query_as(
        "SELECT COUNT(DISTINCT o.id), CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM orders o \
         JOIN order_items i ON i.order_id = o.id \
         WHERE o.buyer_id = $1 AND o.status = 'pending_payment'",
    )
    .bind(buyer.as_i64())
    .fetch_one(&mut **tx)
    .await
}

/// An unpaid order becomes paid by one payment; false when it was not waiting for payment.
pub async fn pay(tx: &mut Tx, order: Id, payment: Id, now: Timestamp) -> Result<bool, sqlx::Error> {
    let done = query(
        "UPDATE orders SET status = 'paid', paid_with = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending_payment'",
    )
    .bind(payment.as_i64())
    .bind(now.as_millis())
    .bind(order.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

type OrderRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
);

const ORDER_SELECT: &str = "SELECT o.id, o.checkout_id, o.buyer_id, o.store_id, s.name, o.status, \
    o.currency, o.items_total, o.shipping_fee, o.total, o.ship_to, o.carrier, o.tracking_number, \
    o.pay_by, o.created_at, o.updated_at FROM orders o JOIN stores s ON s.id = o.store_id";

fn to_order(r: OrderRow) -> Result<Order, sqlx::Error> {
    Ok(Order {
        id: Id::from_i64(r.0),
        checkout_id: Id::from_i64(r.1),
        buyer_id: Id::from_i64(r.2),
        store_id: Id::from_i64(r.3),
        store_name: r.4,
        status: OrderStatus::from_db(&r.5)?,
        currency: r.6,
        items_total: r.7,
        shipping_fee: r.8,
        total: r.9,
        ship_to: serde_json::from_str(&r.10).unwrap_or(AddressDraft {
            name: String::new(),
            phone: String::new(),
            region: String::new(),
            detail: String::new(),
        }),
        carrier: r.11,
        tracking_number: r.12,
        pay_by: Timestamp::from_millis(r.13),
        items: Vec::new(),
        timeline: Vec::new(),
        created_at: Timestamp::from_millis(r.14),
        updated_at: Timestamp::from_millis(r.15),
    })
}

/// Which orders to list.
pub enum Orders {
    Buyer(Id),
    Store {
        store: Id,
        status: Option<OrderStatus>,
        /// Only orders with an after-sales request awaiting the store's answer.
        after_sales: bool,
    },
    Checkout(Id),
}

/// Orders newest first, with their items and timelines.
pub async fn orders(
    db: &Db,
    which: &Orders,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Order>, sqlx::Error> {
    let filter = match which {
        Orders::Buyer(buyer) => format!("o.buyer_id = {}", buyer.as_i64()),
        Orders::Store {
            store,
            status,
            after_sales,
        } => {
            let mut filter = format!("o.store_id = {}", store.as_i64());
            if let Some(status) = status {
                filter += &format!(" AND o.status = '{}'", status.as_str());
            }
            if *after_sales {
                filter +=
                    " AND o.id IN (SELECT order_id FROM after_sales WHERE status = 'requested')";
            }
            filter
        }
        Orders::Checkout(checkout) => format!("o.checkout_id = {}", checkout.as_i64()),
    };
    let sql = format!("{ORDER_SELECT} WHERE {filter} AND o.id < $1 ORDER BY o.id DESC LIMIT $2");
    let rows: Vec<OrderRow> = query_as(&sql)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    let orders = rows.into_iter().map(to_order).collect::<Result<_, _>>()?;
    complete(db, orders).await
}

pub async fn order(db: &Db, id: Id) -> Result<Option<Order>, sqlx::Error> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1");
    let row: Option<OrderRow> = query_as(&sql)
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    let orders = row.into_iter().map(to_order).collect::<Result<_, _>>()?;
    Ok(complete(db, orders).await?.pop())
}

/// Adds items and timelines to orders: two queries however many orders.
async fn complete(db: &Db, mut orders: Vec<Order>) -> Result<Vec<Order>, sqlx::Error> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.id.as_i64()).collect();
    let list = store::values_placeholders(db.backend(), 1, ids.len());
    let sql = format!(
        "SELECT order_id, sku_id, product_id, title, sku_name, unit_price, quantity, note_id, \
         creator_id, commission_bp FROM order_items WHERE order_id IN {list} ORDER BY order_id, position"
    );
    type ItemRow = (
        i64,
        i64,
        i64,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
    );
    let items: Vec<ItemRow> = store::bind_all(query_as(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?;
    let sql = format!(
        "SELECT order_id, status, detail, at FROM order_events WHERE order_id IN {list} \
         ORDER BY order_id, seq"
    );
    let events: Vec<(i64, String, String, i64)> =
        store::bind_all(query_as(&sql), ids.iter().copied())
            .fetch_all(db.pool())
            .await?;
    for order in &mut orders {
        let id = order.id.as_i64();
        order.items = items
            .iter()
            .filter(|i| i.0 == id)
            .map(|i| OrderItem {
                sku_id: Id::from_i64(i.1),
                product_id: Id::from_i64(i.2),
                title: i.3.clone(),
                sku_name: i.4.clone(),
                unit_price: i.5,
                quantity: i.6,
                note_id: i.7.map(Id::from_i64),
                creator_id: i.8.map(Id::from_i64),
                commission_bp: i.9,
            })
            .collect();
        order.timeline = events
            .iter()
            .filter(|e| e.0 == id)
            .map(|e| {
                Ok(OrderEvent::new(
                    OrderStatus::from_db(&e.1)?,
                    Happening::from_db(&e.2),
                    Timestamp::from_millis(e.3),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
    }
    Ok(orders)
}

/// Orders still in `status` whose clock ran out before `before`: for unpaid orders their
/// payment deadline, for the others the last change of status.
pub async fn overdue(
    db: &Db,
    status: OrderStatus,
    before: Timestamp,
    limit: u32,
) -> Result<Vec<Id>, sqlx::Error> {
    let column = match status {
        OrderStatus::PendingPayment => "pay_by",
        _ => "updated_at",
    };
    let sql = format!(
        "SELECT id FROM orders WHERE status = $1 AND {column} < $2 ORDER BY {column} LIMIT $3"
    );
    let ids: Vec<i64> = query_scalar(&sql)
        .bind(status.as_str())
        .bind(before.as_millis())
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    Ok(ids.into_iter().map(Id::from_i64).collect())
}

/// An order's items bought from notes, totalled per creator and commission rate:
/// (creator, basis points, items total).
pub async fn creator_totals(db: &Db, order: Id) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    query_as(
        "SELECT creator_id, commission_bp, CAST(SUM(unit_price * quantity) AS BIGINT) \
         FROM order_items WHERE order_id = $1 AND creator_id IS NOT NULL AND commission_bp > 0 \
         GROUP BY creator_id, commission_bp ORDER BY creator_id, commission_bp",
    )
    .bind(order.as_i64())
    .fetch_all(db.pool())
    .await
}

/// An order's items totalled per product category, for the platform's commission.
pub async fn totals_by_category(db: &Db, order: Id) -> Result<Vec<(String, i64)>, sqlx::Error> {
    query_as(
        "SELECT p.category, CAST(SUM(i.unit_price * i.quantity) AS BIGINT) FROM order_items i \
         JOIN products p ON p.id = i.product_id WHERE i.order_id = $1 GROUP BY p.category",
    )
    .bind(order.as_i64())
    .fetch_all(db.pool())
    .await
}

/// Saves a review with its pictures; false when the item was reviewed before.
pub async fn insert_review(
    tx: &mut Tx,
    review: &Review,
    order: Id,
    position: i64,
) -> Result<bool, sqlx::Error> {
    let done = query(
        "INSERT INTO reviews (id, order_id, position, product_id, buyer_id, sku_name, rating, body, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (order_id, position) DO NOTHING",
    )
    .bind(review.id.as_i64())
    .bind(order.as_i64())
    .bind(position)
    .bind(review.product_id.as_i64())
    .bind(review.buyer.id.as_i64())
    .bind(&review.sku_name)
    .bind(review.rating)
    .bind(&review.body)
    .bind(review.created_at.as_millis())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for (i, media) in review.media.iter().enumerate() {
        query("INSERT INTO review_media (review_id, position, media_id) VALUES ($1, $2, $3)")
            .bind(review.id.as_i64())
            .bind(i as i64)
            .bind(media.id.as_i64())
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

/// A product's reviews, newest first, with their pictures.
pub async fn reviews(
    db: &Db,
    product: Id,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Review>, sqlx::Error> {
    type Row = (i64, i64, String, String, String, i64, String, i64);
    let rows: Vec<Row> = query_as(
        "SELECT r.id, u.id, u.handle, u.display_name, r.sku_name, r.rating, r.body, r.created_at \
         FROM reviews r JOIN users u ON u.id = r.buyer_id \
         WHERE r.product_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3",
    )
    .bind(product.as_i64())
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    let mut reviews: Vec<Review> = rows
        .into_iter()
        .map(|r| Review {
            id: Id::from_i64(r.0),
            product_id: product,
            buyer: Author {
                id: Id::from_i64(r.1),
                handle: r.2,
                display_name: r.3,
            },
            sku_name: r.4,
            rating: r.5,
            body: r.6,
            media: Vec::new(),
            verified_purchase: true,
            created_at: Timestamp::from_millis(r.7),
        })
        .collect();
    if reviews.is_empty() {
        return Ok(reviews);
    }
    let ids: Vec<i64> = reviews.iter().map(|r| r.id.as_i64()).collect();
    let sql = format!(
        "SELECT review_id, media_id FROM review_media WHERE review_id IN {} \
         ORDER BY review_id, position",
        store::values_placeholders(db.backend(), 1, ids.len())
    );
    let links: Vec<(i64, i64)> = store::bind_all(query_as(&sql), ids.iter().copied())
        .fetch_all(db.pool())
        .await?;
    let media_ids: Vec<Id> = links.iter().map(|l| Id::from_i64(l.1)).collect();
    let media = crate::media::store::by_ids(db, &media_ids).await?;
    for review in &mut reviews {
        review.media = links
            .iter()
            .filter(|l| l.0 == review.id.as_i64())
            .filter_map(|l| media.iter().find(|m| m.id.as_i64() == l.1).cloned())
            .collect();
    }
    Ok(reviews)
}

/// The positions of an order's items that have a review.
pub async fn reviewed(db: &Db, order: Id) -> Result<Vec<i64>, sqlx::Error> {
    query_scalar("SELECT position FROM reviews WHERE order_id = $1")
        .bind(order.as_i64())
        .fetch_all(db.pool())
        .await
}

/// Records an after-sales request; false when the order has one open already.
pub async fn insert_after_sale(tx: &mut Tx, request: &AfterSale) -> Result<bool, sqlx::Error> {
    let inserted = query(
        "INSERT INTO after_sales (id, order_id, kind, status, reason, answer, amount, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, '', $6, $7, $7)",
    )
    .bind(request.id.as_i64())
    .bind(request.order_id.as_i64())
    .bind(request.kind.as_str())
    .bind(request.status.as_str())
    .bind(&request.reason)
    .bind(request.amount)
    .bind(request.created_at.as_millis())
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if store::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

type AfterSaleRow = (i64, i64, String, String, String, String, i64, i64, i64);

const AFTER_SALE_SELECT: &str = "SELECT id, order_id, kind, status, reason, answer, amount, \
    created_at, updated_at FROM after_sales";

fn to_after_sale(r: AfterSaleRow) -> Result<AfterSale, sqlx::Error> {
    Ok(AfterSale {
        id: Id::from_i64(r.0),
        order_id: Id::from_i64(r.1),
        kind: AfterSaleKind::from_db(&r.2)?,
        status: AfterSaleStatus::from_db(&r.3)?,
        reason: r.4,
        answer: r.5,
        amount: r.6,
        created_at: Timestamp::from_millis(r.7),
        updated_at: Timestamp::from_millis(r.8),
    })
}

pub async fn after_sale(db: &Db, id: Id) -> Result<Option<AfterSale>, sqlx::Error> {
    let row: Option<AfterSaleRow> = query_as(&format!("{AFTER_SALE_SELECT} WHERE id = $1"))
        .bind(id.as_i64())
        .fetch_optional(db.pool())
        .await?;
    row.map(to_after_sale).transpose()
}

/// An order's after-sales requests, newest first.
pub async fn after_sales_of(db: &Db, order: Id) -> Result<Vec<AfterSale>, sqlx::Error> {
    let rows: Vec<AfterSaleRow> = query_as(&format!(
        "{AFTER_SALE_SELECT} WHERE order_id = $1 ORDER BY id DESC"
    ))
    .bind(order.as_i64())
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(to_after_sale).collect()
}

/// Answers a request still open; false when it was answered before.
pub async fn answer_after_sale(
    tx: &mut Tx,
    id: Id,
    status: AfterSaleStatus,
    answer: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = query(
        "UPDATE after_sales SET status = $1, answer = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'requested'",
    )
    .bind(status.as_str())
    .bind(answer)
    .bind(now.as_millis())
    .bind(id.as_i64())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
