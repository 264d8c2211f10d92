-- Interest tags readers deleted, and when: when the feed is rebuilt from the database,
-- engagement from before the deletion does not grow the tag again.
CREATE TABLE feed_forgotten_interests (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id  BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    at        BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
