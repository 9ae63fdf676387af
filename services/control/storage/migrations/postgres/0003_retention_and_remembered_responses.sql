-- Durable request ids: the first answer of each mutating call that named a session and carried a
-- request id, kept with its session (deleted with it). Indexes for the sweeper: idle active sessions,
-- the sessions naming a cache namespace, and cache entries by age.

CREATE TABLE remembered_responses (
    session_id     text        NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    response_id    text        NOT NULL,
    request_sha256 text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    sha256         text        NOT NULL,
    create_time    timestamptz NOT NULL,
    encoding       text        NOT NULL,
    data           bytea       NOT NULL,
    PRIMARY KEY (session_id, response_id)
);

-- Answers arrive compressed when compression pays: do not let TOAST compress them again.
ALTER TABLE remembered_responses ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE INDEX sessions_by_activity ON sessions (state, update_time);
CREATE INDEX sessions_by_cache_namespace ON sessions (cache_namespace, tenant);
CREATE INDEX cache_entries_by_age ON cache_entries (create_time);
