-- Standing panels: people kept with their memories across studies, per tenant. The members (agents with
-- their memories and histories) are one stored payload, the serialized `Panel` holding only `members`.

CREATE TABLE panels (
    ordinal      bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant       text        NOT NULL,
    panel_id     text        NOT NULL,
    display_name text        NOT NULL,
    description  text        NOT NULL,
    labels       jsonb       NOT NULL DEFAULT '{}',
    member_count integer     NOT NULL,
    study_count  integer     NOT NULL,
    version      bigint      NOT NULL,
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL,
    size_bytes   bigint      NOT NULL,
    sha256       text        NOT NULL,
    encoding     text        NOT NULL,
    data         bytea       NOT NULL,
    PRIMARY KEY (tenant, panel_id)
);

-- Members arrive compressed when compression pays: do not let TOAST compress them again.
ALTER TABLE panels ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE INDEX panels_by_tenant ON panels (tenant, ordinal);
