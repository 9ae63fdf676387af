-- The usage ledger: every model call's usage, added where the call is made. Per session by service, model
-- and agent (deleted with the session), with the session's budget; and per tenant by UTC day and model,
-- kept beyond the sessions for the tenant's daily and monthly budgets.

CREATE TABLE session_usage (
    session_id           TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    service              TEXT    NOT NULL,
    model                TEXT    NOT NULL,
    agent                TEXT    NOT NULL,
    calls                INTEGER NOT NULL DEFAULT 0,
    cached_calls         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens        INTEGER NOT NULL DEFAULT 0,
    completion_tokens    INTEGER NOT NULL DEFAULT 0,
    cost                 REAL    NOT NULL DEFAULT 0,
    unpriced_calls       INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens     INTEGER NOT NULL DEFAULT 0,
    cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
    saved_tokens         INTEGER NOT NULL DEFAULT 0,
    saved_cost           REAL    NOT NULL DEFAULT 0,
    model_requests       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, service, model, agent)
);

CREATE TABLE session_budgets (
    session_id TEXT    PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
    max_cost   REAL    NOT NULL,
    max_tokens INTEGER NOT NULL
);

CREATE TABLE tenant_usage (
    tenant               TEXT    NOT NULL,
    day                  TEXT    NOT NULL,
    month                TEXT    NOT NULL,
    model                TEXT    NOT NULL,
    calls                INTEGER NOT NULL DEFAULT 0,
    cached_calls         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens        INTEGER NOT NULL DEFAULT 0,
    completion_tokens    INTEGER NOT NULL DEFAULT 0,
    cost                 REAL    NOT NULL DEFAULT 0,
    unpriced_calls       INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens     INTEGER NOT NULL DEFAULT 0,
    cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
    saved_tokens         INTEGER NOT NULL DEFAULT 0,
    saved_cost           REAL    NOT NULL DEFAULT 0,
    model_requests       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day, model)
);

CREATE INDEX tenant_usage_by_month ON tenant_usage (tenant, month);
