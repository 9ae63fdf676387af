-- Standing panels: people kept with their memories across studies, per tenant. The members (agents with
-- their memories and histories) are one stored payload, the serialized `Panel` holding only `members`.

CREATE TABLE panels (
    ordinal        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant         TEXT    NOT NULL,
    panel_id       TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    labels         TEXT    NOT NULL DEFAULT '{}',
    member_count   INTEGER NOT NULL,
    study_count    INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    create_time_us INTEGER NOT NULL,
    update_time_us INTEGER NOT NULL,
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    encoding       TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    UNIQUE (tenant, panel_id)
);

CREATE INDEX panels_by_tenant ON panels (tenant, ordinal);
