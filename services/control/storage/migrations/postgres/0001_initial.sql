-- Sessions, checkpoints, the LLM cache and leases.

CREATE TABLE sessions (
    ordinal          bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    session_id       text        PRIMARY KEY,
    request_id       text        UNIQUE,
    display_name     text        NOT NULL,
    description      text        NOT NULL,
    cache_namespace  text        NOT NULL,
    labels           jsonb       NOT NULL DEFAULT '{}',
    state            text        NOT NULL CHECK (state IN ('ACTIVE', 'ENDED', 'FAILED')),
    create_time      timestamptz NOT NULL,
    update_time      timestamptz NOT NULL,
    expire_time      timestamptz,
    end_reason       text        NOT NULL DEFAULT '',
    checkpoint_count integer     NOT NULL DEFAULT 0
);

CREATE INDEX sessions_by_state ON sessions (state, ordinal);
CREATE INDEX sessions_by_labels ON sessions USING gin (labels jsonb_path_ops);
CREATE INDEX sessions_by_expiry ON sessions (expire_time) WHERE expire_time IS NOT NULL;

CREATE TABLE checkpoints (
    session_id    text        NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    checkpoint_id text        NOT NULL,
    sequence      integer     NOT NULL,
    content_type  text        NOT NULL,
    annotations   jsonb       NOT NULL DEFAULT '{}',
    size_bytes    bigint      NOT NULL,
    sha256        text        NOT NULL,
    create_time   timestamptz NOT NULL,
    encoding      text        NOT NULL,
    data          bytea       NOT NULL,
    PRIMARY KEY (session_id, checkpoint_id),
    UNIQUE (session_id, sequence)
);

-- Payloads arrive compressed when compression pays: do not let TOAST compress them again.
ALTER TABLE checkpoints ALTER COLUMN data SET STORAGE EXTERNAL;

-- Entries belong to a namespace, not to a session: deleting a session keeps them for others naming it.
CREATE TABLE cache_entries (
    namespace   text        NOT NULL,
    key         text        NOT NULL,
    value       bytea       NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, key)
);

CREATE TABLE leases (
    session_id  text        PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
    holder      text        NOT NULL,
    expire_time timestamptz NOT NULL,
    generation  bigint      NOT NULL,
    update_time timestamptz NOT NULL
);
