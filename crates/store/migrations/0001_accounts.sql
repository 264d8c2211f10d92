-- Accounts, sessions and personal API tokens, organisations and their staff.
-- Portable across SQLite and PostgreSQL: BIGINT ids and unix-millisecond times, TEXT, 0/1 flags.

CREATE TABLE users (
    id            BIGINT PRIMARY KEY,
    handle        TEXT   NOT NULL UNIQUE,   -- always lower case: uniqueness ignores case
    display_name  TEXT   NOT NULL,
    bio           TEXT   NOT NULL DEFAULT '',
    password_hash TEXT   NOT NULL,          -- argon2id PHC string
    role          TEXT   NOT NULL DEFAULT 'member',  -- member | moderator | admin
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE auth_tokens (
    id          BIGINT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,            -- session | personal
    name        TEXT   NOT NULL DEFAULT '',
    token_hash  TEXT   NOT NULL UNIQUE,     -- SHA-256 of the secret; the secret itself is never stored
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT                      -- NULL: until revoked
);
CREATE INDEX auth_tokens_by_user ON auth_tokens (user_id, kind);

CREATE TABLE orgs (
    id          BIGINT PRIMARY KEY,
    slug        TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    verified    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE org_members (
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,            -- owner | staff
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_by_user ON org_members (user_id);
