-- After-sales: a buyer asks for a refund (before shipping) or a return and refund (after); the
-- store approves, and the money goes back, or rejects with a reason. One open request per order.
CREATE TABLE after_sales (
    id         BIGINT PRIMARY KEY,
    order_id   BIGINT NOT NULL REFERENCES orders (id),
    kind       TEXT   NOT NULL,             -- refund_only | return_and_refund
    status     TEXT   NOT NULL,             -- requested | rejected | refunded
    reason     TEXT   NOT NULL,
    answer     TEXT   NOT NULL,             -- the store's reason when it rejects
    amount     BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX after_sales_open ON after_sales (order_id) WHERE status <> 'rejected';
