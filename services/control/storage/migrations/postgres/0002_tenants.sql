-- Every session belongs to a tenant ('' when authentication is off). Request ids and cache namespaces
-- are stored joined to the tenant (see storage/rules.py), so they need no column of their own.

ALTER TABLE sessions ADD COLUMN tenant text NOT NULL DEFAULT '';

CREATE INDEX sessions_by_tenant ON sessions (tenant, ordinal);
