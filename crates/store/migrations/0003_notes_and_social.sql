-- Media, notes, topics and the social graph.

CREATE TABLE media (
    id          BIGINT PRIMARY KEY,
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,            -- image | video
    width       BIGINT,                     -- of the display derivative; unknown for videos
    height      BIGINT,
    color       TEXT   NOT NULL,            -- placeholder colour '#rrggbb', '' for videos
    display_key TEXT   NOT NULL,            -- object key: display image, or the video itself
    card_key    TEXT   NOT NULL,            -- object key: card image, '' for videos
    mime        TEXT   NOT NULL,
    bytes       BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX media_by_owner ON media (owner_id, id);

CREATE TABLE notes (
    id             BIGINT PRIMARY KEY,
    author_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT   NOT NULL,         -- image | video
    title          TEXT   NOT NULL,
    body           TEXT   NOT NULL,
    place          TEXT   NOT NULL,
    visibility     TEXT   NOT NULL,         -- public | private
    draft          BIGINT NOT NULL,
    like_count     BIGINT NOT NULL DEFAULT 0,
    collect_count  BIGINT NOT NULL DEFAULT 0,
    comment_count  BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    edited_at      BIGINT
);
CREATE INDEX notes_by_author ON notes (author_id, id);

CREATE TABLE note_media (
    note_id   BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,              -- 0-based order the author chose; for videos 0 = video, 1 = cover
    media_id  BIGINT NOT NULL REFERENCES media (id),
    PRIMARY KEY (note_id, position)
);

CREATE TABLE topics (
    id          BIGINT PRIMARY KEY,
    name        TEXT   NOT NULL UNIQUE,     -- lower case
    created_at  BIGINT NOT NULL
);

CREATE TABLE note_topics (
    note_id   BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    topic_id  BIGINT NOT NULL REFERENCES topics (id),
    position  BIGINT NOT NULL,              -- order of appearance in the body
    PRIMARY KEY (note_id, topic_id)
);
CREATE INDEX note_topics_by_topic ON note_topics (topic_id, note_id);

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);

CREATE TABLE likes (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id     BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, note_id)
);
CREATE INDEX likes_by_note ON likes (note_id);

CREATE TABLE boards (
    id          BIGINT PRIMARY KEY,
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    public      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE collects (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id     BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    board_id    BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, note_id)
);
CREATE INDEX collects_by_board ON collects (board_id, created_at);
CREATE INDEX collects_by_note ON collects (note_id);

CREATE TABLE comments (
    id          BIGINT PRIMARY KEY,
    note_id     BIGINT NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    author_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id   BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    body        TEXT   NOT NULL,
    like_count  BIGINT NOT NULL DEFAULT 0,
    pinned      BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX comments_by_note ON comments (note_id, parent_id, id);

CREATE TABLE comment_likes (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    comment_id  BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, comment_id)
);

CREATE TABLE blocks (
    blocker_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id);

CREATE TABLE mutes (
    muter_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    muted_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (muter_id, muted_id)
);

CREATE TABLE reports (
    id           BIGINT PRIMARY KEY,
    reporter_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_kind  TEXT   NOT NULL,           -- note | comment | user
    target_id    BIGINT NOT NULL,
    reason       TEXT   NOT NULL,
    detail       TEXT   NOT NULL,
    status       TEXT   NOT NULL,           -- open | resolved
    created_at   BIGINT NOT NULL
);

CREATE TABLE notifications (
    id            BIGINT PRIMARY KEY,
    recipient_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT   NOT NULL,          -- like | collect | comment | reply | mention | follow
    actor_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_id       BIGINT REFERENCES notes (id) ON DELETE CASCADE,
    comment_id    BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    read_at       BIGINT
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, id);
