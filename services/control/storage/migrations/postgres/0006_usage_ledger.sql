-- The usage ledger: every model call's usage, added where the call is made. Per session by service, model
-- and agent (deleted with the session), with the session's budget; and per tenant by UTC day and model,
-- kept beyond the sessions for the tenant's daily and monthly budgets.

CREATE TABLE session_usage (
    session_id           text    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    service              text    NOT NULL,
    model                text    NOT NULL,
    agent                text    NOT NULL,
    calls                bigint  NOT NULL DEFAULT 0,
    cached_calls         bigint  NOT NULL DEFAULT 0,
    prompt_tokens        bigint  NOT NULL DEFAULT 0,
    completion_tokens    bigint  NOT NULL DEFAULT 0,
    cost                 double precision NOT NULL DEFAULT 0,
    unpriced_calls       bigint  NOT NULL DEFAULT 0,
    reasoning_tokens     bigint  NOT NULL DEFAULT 0,
    cached_prompt_tokens bigint  NOT NULL DEFAULT 0,
    saved_tokens         bigint  NOT NULL DEFAULT 0,
    saved_cost           double precision NOT NULL DEFAULT 0,
    model_requests       bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, service, model, agent)
);

CREATE TABLE session_budgets (
    session_id text             PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
    max_cost   double precision NOT NULL,
    max_tokens bigint           NOT NULL
);

CREATE TABLE tenant_usage (
    tenant               text    NOT NULL,
    day                  text    NOT NULL,
    month                text    NOT NULL,
    model                text    NOT NULL,
    calls                bigint  NOT NULL DEFAULT 0,
    cached_calls         bigint  NOT NULL DEFAULT 0,
    prompt_tokens        bigint  NOT NULL DEFAULT 0,
    completion_tokens    bigint  NOT NULL DEFAULT 0,
    cost                 double precision NOT NULL DEFAULT 0,
    unpriced_calls       bigint  NOT NULL DEFAULT 0,
    reasoning_tokens     bigint  NOT NULL DEFAULT 0,
    cached_prompt_tokens bigint  NOT NULL DEFAULT 0,
    saved_tokens         bigint  NOT NULL DEFAULT 0,
    saved_cost           double precision NOT NULL DEFAULT 0,
    model_requests       bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day, model)
);

CREATE INDEX tenant_usage_by_month ON tenant_usage (tenant, month);
