-- What each gateway process has counted since it started, reported with its sessions' status, so the web
-- process can expose counts that live only in the gateway's memory: cleared messages (empty ones, deletions
-- of retained copies) and dead letters beyond a device's allowance, counted and not stored. A row outlives a
-- clean stop (the last counts stay readable) and starts from zero when its gateway starts again.
CREATE TABLE gateway_counters (
    client_id               text        PRIMARY KEY,
    started_at              timestamptz NOT NULL,
    reported_at             timestamptz NOT NULL,
    accepted                bigint      NOT NULL,
    rejected                bigint      NOT NULL,
    cleared                 bigint      NOT NULL,
    dead_letters_suppressed bigint      NOT NULL,
    -- {"reason": count} of the rejected messages, stored as dead letters or not.
    rejected_by_reason      jsonb       NOT NULL
);
