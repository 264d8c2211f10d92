-- Commerce notifications (an order paid, shipped, an after-sales request and its answer, a
-- commission) point at their order.
ALTER TABLE notifications ADD COLUMN order_id BIGINT REFERENCES orders (id) ON DELETE CASCADE;
