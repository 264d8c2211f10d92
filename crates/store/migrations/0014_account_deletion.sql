-- A member who deleted their account keeps a row (their orders, reviews' purchases and ledger
-- accounts point at it), anonymised, with the time they left.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
