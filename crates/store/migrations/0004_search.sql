-- What people search for, for suggestions while typing.
CREATE TABLE search_queries (
    query         TEXT   PRIMARY KEY,       -- trimmed, lower case
    uses          BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL
);
