-- Submissions to the ledger from nodes that do not hold its lease, waiting for the node that
-- does (PostgreSQL with several nodes; unused on SQLite, where there is one node). The writer
-- answers a request in the same transaction that commits its transfers.
CREATE TABLE ledger_requests (
    id          BIGINT PRIMARY KEY,  -- chosen by the asking node, time-ordered
    payload     TEXT   NOT NULL,     -- the requests, as JSON
    asked_at    BIGINT NOT NULL,     -- unix ms
    answer      TEXT,                -- the replies, as JSON; NULL until answered
    answered_at BIGINT
);
CREATE INDEX ledger_requests_open ON ledger_requests (id) WHERE answer IS NULL;
