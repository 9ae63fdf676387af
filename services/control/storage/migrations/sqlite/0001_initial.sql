-- Sessions, checkpoints, the LLM cache and leases. Times are microseconds since the Unix epoch, UTC.

CREATE TABLE sessions (
    ordinal          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id       TEXT    NOT NULL UNIQUE,
    request_id       TEXT    UNIQUE,
    display_name     TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    cache_namespace  TEXT    NOT NULL,
    labels           TEXT    NOT NULL DEFAULT '{}',
    state            TEXT    NOT NULL CHECK (state IN ('ACTIVE', 'ENDED', 'FAILED')),
    create_time_us   INTEGER NOT NULL,
    update_time_us   INTEGER NOT NULL,
    expire_time_us   INTEGER,
    end_reason       TEXT    NOT NULL DEFAULT '',
    checkpoint_count INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sessions_by_state ON sessions (state, ordinal);
CREATE INDEX sessions_by_expiry ON sessions (expire_time_us) WHERE expire_time_us IS NOT NULL;

-- The payload column comes last so that listings never read its overflow pages.
CREATE TABLE checkpoints (
    session_id     TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    checkpoint_id  TEXT    NOT NULL,
    sequence       INTEGER NOT NULL,
    content_type   TEXT    NOT NULL,
    annotations    TEXT    NOT NULL DEFAULT '{}',
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    create_time_us INTEGER NOT NULL,
    encoding       TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    PRIMARY KEY (session_id, checkpoint_id),
    UNIQUE (session_id, sequence)
);

-- Entries belong to a namespace, not to a session: deleting a session keeps them for others naming it.
CREATE TABLE cache_entries (
    namespace      TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    value          BLOB    NOT NULL,
    create_time_us INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

CREATE TABLE leases (
    session_id     TEXT    PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
    holder         TEXT    NOT NULL,
    expire_time_us INTEGER NOT NULL,
    generation     INTEGER NOT NULL,
    update_time_us INTEGER NOT NULL
);
