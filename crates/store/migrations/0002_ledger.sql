-- The ledger: accounts with their balances, immutable transfers, and expiries of pending
-- transfers. Transfers and expiries are only ever inserted. An account's balance columns are
-- updated in the same transaction as the transfers that change them, so they always equal the
-- sums over its transfers.

CREATE TABLE ledger_accounts (
    id              BIGINT PRIMARY KEY,
    currency        TEXT   NOT NULL,
    code            BIGINT NOT NULL,          -- kind of account: see the chart of accounts
    owner           TEXT   NOT NULL,          -- e.g. 'platform', 'store:42', 'user:7'
    flags           BIGINT NOT NULL,          -- 1: debits <= credits, 2: credits <= debits
    debits_pending  BIGINT NOT NULL,
    debits_posted   BIGINT NOT NULL,
    credits_pending BIGINT NOT NULL,
    credits_posted  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX ledger_accounts_by_kind ON ledger_accounts (code, owner, currency);

CREATE TABLE ledger_transfers (
    id                BIGINT PRIMARY KEY,     -- chosen by the caller: the idempotency key
    debit_account_id  BIGINT NOT NULL REFERENCES ledger_accounts (id),
    credit_account_id BIGINT NOT NULL REFERENCES ledger_accounts (id),
    amount            BIGINT NOT NULL,
    currency          TEXT   NOT NULL,
    code              BIGINT NOT NULL,        -- why the money moved
    flags             BIGINT NOT NULL,        -- 1 linked, 2 pending, 4 post pending, 8 void pending
    pending_id        BIGINT,
    timeout_seconds   BIGINT NOT NULL,
    memo              TEXT   NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, id);
CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, id);
CREATE INDEX ledger_transfers_by_pending ON ledger_transfers (pending_id);

CREATE TABLE ledger_expiries (
    pending_id  BIGINT PRIMARY KEY REFERENCES ledger_transfers (id),
    expired_at  BIGINT NOT NULL
);
