-- Hourly rollups of readings, kept longer than the raw rows (docs/operations.md, "Rollups and retention").
-- One row per device and hour, laid out like readings: element [metric id] of each array belongs to that
-- metric (migration 0006), with count 0 where the device did not report the metric in that hour. min, max, sum
-- and count combine into any longer bucket exactly; last is the value at last_ts.
--
-- A table filled by propwatch's maintenance (ingest.rollups), in both storage modes: TimescaleDB's continuous
-- aggregates cannot unnest the vals array, so they cannot compute per-metric aggregates of this layout.
CREATE TABLE readings_hourly (
    device_id  text          NOT NULL,
    hour       timestamptz   NOT NULL,
    mins       float8[]      NOT NULL,
    maxs       float8[]      NOT NULL,
    sums       float8[]      NOT NULL,
    counts     integer[]     NOT NULL,
    lasts      float8[]      NOT NULL,
    last_ts    timestamptz[] NOT NULL,
    PRIMARY KEY (device_id, hour)
);

-- Hours before done_until are rolled up. The gateway refuses messages more than 7 days old (docs/protocol.md),
-- so an hour is rolled up once, after it can no longer change.
CREATE TABLE rollup_progress (
    relation    text        PRIMARY KEY,
    done_until  timestamptz NOT NULL
);

-- The last outcome of each maintenance task propwatch runs itself (rollups, plain-mode retention, TimescaleDB
-- jobs its server failed to run): what /metrics and the logs report.
CREATE TABLE maintenance_runs (
    task         text        PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    ok           boolean     NOT NULL,
    error        text,
    successes    bigint      NOT NULL DEFAULT 0,
    failures     bigint      NOT NULL DEFAULT 0,
    last_success timestamptz
);
