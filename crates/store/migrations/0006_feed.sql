-- What readers did with feed cards (impressions, reads, "not interested", "fewer from this
-- author"), so the feed engine can be rebuilt from the database. Likes, collects, comments and
-- follows live in their own tables.
CREATE TABLE feed_events (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id  BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    kind     TEXT   NOT NULL,           -- impression | read | not_interested | fewer_from_author
    at       BIGINT NOT NULL
);
CREATE INDEX feed_events_by_time ON feed_events (at);

-- Readers who turned personalisation off.
CREATE TABLE feed_settings (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    personalised  BIGINT NOT NULL
);
