-- One log of what happened, written in the same transaction as the change it announces; search,
-- the feed, the note cache, notifications and every later derived view follow it.
CREATE TABLE changes (
    seq     BIGINT PRIMARY KEY,     -- unique; on SQLite also the order of commits
    tx      BIGINT NOT NULL,        -- PostgreSQL: the writing transaction's id; SQLite: 0
    at_ms   BIGINT NOT NULL,        -- when it was recorded, unix ms
    payload TEXT   NOT NULL         -- the change, as JSON
);
-- Readers go through the log in (tx, seq) order: see docs/architecture.md, "The change log".
CREATE INDEX changes_order ON changes (tx, seq);
CREATE INDEX changes_at ON changes (at_ms);

-- Where each subscriber stands: once-per-cluster subscribers claim their row while they apply a
-- batch; every-node subscribers report theirs (named subscriber@node) for `hongshu changes`.
CREATE TABLE change_positions (
    subscriber TEXT   PRIMARY KEY,
    tx         BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- The last position retention removed: a subscriber at or before it has missed changes and
-- rebuilds from the tables.
CREATE TABLE changes_pruned (
    id  BIGINT PRIMARY KEY,         -- always 1
    tx  BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO changes_pruned (id, tx, seq) VALUES (1, 0, 0);

-- The search log this one replaces: search indexes rebuild once from the tables.
DROP TABLE search_changes;

-- Notifications are made and taken back by the change log's subscriber, one per like, collect or
-- follow undone: found by who did it, not by scanning the recipient's whole list.
CREATE INDEX notifications_by_actor ON notifications (actor_id, kind);
