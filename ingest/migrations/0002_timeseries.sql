-- Telemetry and device events. The primary keys make writes idempotent: a redelivered message adds nothing.
-- No foreign key to devices on purpose: the gateway validates device identity before writing, and a
-- per-row FK check would cost more than the rest of the insert.
CREATE TABLE readings (
    device_id   text             NOT NULL,
    metric      text             NOT NULL,
    ts          timestamptz      NOT NULL,
    value       double precision NOT NULL,
    PRIMARY KEY (device_id, metric, ts)
);

CREATE TABLE device_events (
    device_id   text        NOT NULL,
    ts          timestamptz NOT NULL,
    code        text        NOT NULL,
    seq         bigint,
    detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts, code)
);

CREATE TABLE latest_readings (
    device_id   text             NOT NULL,
    metric      text             NOT NULL,
    ts          timestamptz      NOT NULL,
    value       double precision NOT NULL,
    PRIMARY KEY (device_id, metric)
);
