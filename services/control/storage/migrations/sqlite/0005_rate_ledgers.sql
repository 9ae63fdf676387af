-- Shared rate budgets: one ledger per model endpoint (its live grants, recent asks and pause, as JSON),
-- read and rewritten in one transaction by each AcquireRateGrant / PauseRateBudget.

CREATE TABLE rate_ledgers (
    endpoint       TEXT    PRIMARY KEY,
    state          TEXT    NOT NULL,
    update_time_us INTEGER NOT NULL
);
