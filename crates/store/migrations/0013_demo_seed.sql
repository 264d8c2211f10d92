-- The demo seed marks its start and its end, so a seed interrupted half-way is recognised (and
-- started again from an empty database) rather than mistaken for a community in use.
CREATE TABLE demo_seed (
    id          BIGINT PRIMARY KEY,         -- always 1
    started_at  BIGINT NOT NULL,
    finished_at BIGINT                      -- null while seeding, or after an interruption
);
