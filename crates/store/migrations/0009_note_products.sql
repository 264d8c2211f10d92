-- Products a note tags: its page shows them with a buy button, and what is bought from the
-- note earns its author the product's commission.
CREATE TABLE note_products (
    note_id    BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    PRIMARY KEY (note_id, position)
);
CREATE INDEX note_products_by_product ON note_products (product_id, note_id);
