-- Reviews of products, one per order item, only by its buyer after delivery: every review is a
-- verified purchase.
CREATE TABLE reviews (
    id         BIGINT PRIMARY KEY,
    order_id   BIGINT NOT NULL REFERENCES orders (id),
    position   BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    buyer_id   BIGINT NOT NULL REFERENCES users (id),
    sku_name   TEXT   NOT NULL,
    rating     BIGINT NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX reviews_by_item ON reviews (order_id, position);
CREATE INDEX reviews_by_product ON reviews (product_id, id);

CREATE TABLE review_media (
    review_id BIGINT NOT NULL REFERENCES reviews (id),
    position  BIGINT NOT NULL,
    media_id  BIGINT NOT NULL REFERENCES media (id),
    PRIMARY KEY (review_id, position)
);
