-- Exactly one payment pays an order: the one named here, set in the same transaction that makes
-- the order paid (and the payment succeeded). Any other successful payment of the order is
-- given back, whatever the order of arrival.
ALTER TABLE orders ADD COLUMN paid_with BIGINT;
UPDATE orders SET paid_with = (
    SELECT MIN(p.id) FROM payments p
    WHERE p.order_id = orders.id AND p.status IN ('succeeded', 'refunding', 'refunded', 'refund_failed')
) WHERE status NOT IN ('pending_payment', 'cancelled');

-- The sandbox provider's outgoing notifications, kept until the server has taken them, as a
-- real provider keeps and retries its own: one per payment (the buyer's first decision).
CREATE TABLE sandbox_notifications (
    payment_id   BIGINT PRIMARY KEY REFERENCES payments (id),
    body         TEXT   NOT NULL,
    attempts     BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,           -- unix ms of the next delivery
    delivered_at BIGINT                     -- null until the server answered 200
);
CREATE INDEX sandbox_notifications_due ON sandbox_notifications (delivered_at, next_at);
