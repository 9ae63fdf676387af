-- Shared rate budgets: one ledger per model endpoint (its live grants, recent asks and pause, as JSON),
-- read and rewritten in one transaction (row locked) by each AcquireRateGrant / PauseRateBudget.

CREATE TABLE rate_ledgers (
    endpoint    text        PRIMARY KEY,
    state       jsonb       NOT NULL,
    update_time timestamptz NOT NULL
);
