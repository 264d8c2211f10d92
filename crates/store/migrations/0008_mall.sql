-- The mall: stores run by organisations, products and their SKUs, carts, saved addresses,
-- orders with their items and status history, checkout idempotency keys, payments with the
-- provider notifications applied, and the ledger transfer ids each order uses.

CREATE TABLE stores (
    id            BIGINT PRIMARY KEY,
    org_id        BIGINT NOT NULL UNIQUE REFERENCES orgs (id),
    name          TEXT   NOT NULL,
    description   TEXT   NOT NULL,
    logo_media_id BIGINT REFERENCES media (id),
    currency      TEXT   NOT NULL,
    shipping_fee  BIGINT NOT NULL,          -- minor units, per order
    free_over     BIGINT NOT NULL,          -- items total from which shipping is free; 0: never
    region_fees   TEXT   NOT NULL,          -- JSON object: region -> fee, overriding shipping_fee
    created_at    BIGINT NOT NULL
);

CREATE TABLE products (
    id             BIGINT PRIMARY KEY,
    store_id       BIGINT NOT NULL REFERENCES stores (id),
    title          TEXT   NOT NULL,
    description    TEXT   NOT NULL,
    category       TEXT   NOT NULL,
    state          TEXT   NOT NULL,         -- draft | on_sale | off_sale
    commission_bp  BIGINT NOT NULL,         -- creator commission in basis points; 0: none
    sold           BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX products_by_store ON products (store_id, id);
CREATE INDEX products_by_state ON products (state, id);

CREATE TABLE product_media (
    product_id BIGINT NOT NULL REFERENCES products (id),
    position   BIGINT NOT NULL,
    media_id   BIGINT NOT NULL REFERENCES media (id),
    PRIMARY KEY (product_id, position)
);

CREATE TABLE skus (
    id         BIGINT PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    code       TEXT   NOT NULL,
    name       TEXT   NOT NULL,             -- the variant, e.g. "Red / M"
    price      BIGINT NOT NULL,             -- minor units of the store's currency
    stock      BIGINT NOT NULL CHECK (stock >= 0),
    weight_g   BIGINT NOT NULL
);
CREATE INDEX skus_by_product ON skus (product_id, id);
CREATE UNIQUE INDEX skus_by_code ON skus (product_id, code);

CREATE TABLE cart_items (
    user_id  BIGINT NOT NULL REFERENCES users (id),
    sku_id   BIGINT NOT NULL REFERENCES skus (id),
    quantity BIGINT NOT NULL,
    note_id  BIGINT,                        -- the note the product was found in, if any
    added_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, sku_id)
);

CREATE TABLE addresses (
    id         BIGINT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    name       TEXT   NOT NULL,
    phone      TEXT   NOT NULL,
    region     TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX addresses_by_user ON addresses (user_id, id);

-- One checkout per buyer and Idempotency-Key: a repeated submission finds its orders here.
CREATE TABLE checkouts (
    id           BIGINT PRIMARY KEY,
    buyer_id     BIGINT NOT NULL REFERENCES users (id),
    idem_key     TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX checkouts_by_key ON checkouts (buyer_id, idem_key);

CREATE TABLE orders (
    id              BIGINT PRIMARY KEY,
    checkout_id     BIGINT NOT NULL REFERENCES checkouts (id),
    buyer_id        BIGINT NOT NULL REFERENCES users (id),
    store_id        BIGINT NOT NULL REFERENCES stores (id),
    status          TEXT   NOT NULL,        -- pending_payment | paid | shipped | delivered | completed | cancelled
    currency        TEXT   NOT NULL,
    items_total     BIGINT NOT NULL,
    shipping_fee    BIGINT NOT NULL,
    total           BIGINT NOT NULL,
    ship_to         TEXT   NOT NULL,        -- the address as it was at checkout (JSON)
    carrier         TEXT   NOT NULL,
    tracking_number TEXT   NOT NULL,
    pay_by          BIGINT NOT NULL,        -- unpaid after this, the order is cancelled
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX orders_by_buyer ON orders (buyer_id, id);
CREATE INDEX orders_by_store ON orders (store_id, id);
CREATE INDEX orders_by_checkout ON orders (checkout_id);
CREATE INDEX orders_by_status ON orders (status, pay_by);

CREATE TABLE order_items (
    order_id      BIGINT NOT NULL REFERENCES orders (id),
    position      BIGINT NOT NULL,
    sku_id        BIGINT NOT NULL REFERENCES skus (id),
    product_id    BIGINT NOT NULL REFERENCES products (id),
    title         TEXT   NOT NULL,
    sku_name      TEXT   NOT NULL,
    unit_price    BIGINT NOT NULL,
    quantity      BIGINT NOT NULL,
    note_id       BIGINT,                   -- bought from this note
    creator_id    BIGINT,                   -- whose note it was
    commission_bp BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- The timeline a buyer sees: every status an order went through, and why.
CREATE TABLE order_events (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    seq      BIGINT NOT NULL,
    status   TEXT   NOT NULL,
    detail   TEXT   NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

CREATE TABLE payments (
    id           BIGINT PRIMARY KEY,
    order_id     BIGINT NOT NULL REFERENCES orders (id),
    provider     TEXT   NOT NULL,
    amount       BIGINT NOT NULL,
    currency     TEXT   NOT NULL,
    status       TEXT   NOT NULL,           -- pending | succeeded | failed
    provider_ref TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX payments_by_order ON payments (order_id);

-- Each ledger transfer an order causes has its id chosen once and kept here, so a retried
-- step submits the same transfer again and the ledger applies it once.
CREATE TABLE order_transfers (
    order_id    BIGINT NOT NULL REFERENCES orders (id),
    step        TEXT   NOT NULL,
    transfer_id BIGINT NOT NULL,
    PRIMARY KEY (order_id, step)
);
