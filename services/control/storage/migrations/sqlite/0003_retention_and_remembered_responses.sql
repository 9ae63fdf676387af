-- Durable request ids: the first answer of each mutating call that named a session and carried a
-- request id, kept with its session (deleted with it). Indexes for the sweeper: idle active sessions,
-- the sessions naming a cache namespace, and cache entries by age.

CREATE TABLE remembered_responses (
    session_id     TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    response_id    TEXT    NOT NULL,
    request_sha256 TEXT    NOT NULL,
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    create_time_us INTEGER NOT NULL,
    encoding       TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    PRIMARY KEY (session_id, response_id)
);

CREATE INDEX sessions_by_activity ON sessions (state, update_time_us);
CREATE INDEX sessions_by_cache_namespace ON sessions (cache_namespace, tenant);
CREATE INDEX cache_entries_by_age ON cache_entries (create_time_us);
