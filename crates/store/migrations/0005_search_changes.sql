-- What search must catch up with: every node's index tails this log, so a change made on one
-- node (or by a command) reaches them all, and an index reopened after a stop catches up.
CREATE TABLE search_changes (
    seq     BIGINT PRIMARY KEY,     -- a time-ordered id
    kind    TEXT   NOT NULL,        -- 'note' or 'user'
    doc_id  BIGINT NOT NULL
);
