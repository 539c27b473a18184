-- Gateway bookkeeping: rejected messages, device presence and per-device sequence statistics.

-- Every message the gateway refused, with why. The payload is truncated (see gateway.dead_letters) so a
-- hostile stream cannot fill the disk faster than the broker's own packet limit allows.
CREATE TABLE dead_letters (
    id           bigserial   PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    topic        text        NOT NULL,
    site_id      text,
    device_id    text,
    reason       text        NOT NULL,
    detail       text        NOT NULL,
    payload      bytea       NOT NULL,
    payload_size integer     NOT NULL
);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, received_at DESC);
CREATE INDEX dead_letters_device_idx ON dead_letters (device_id, received_at DESC);

-- Online/offline state from birth and last-will messages; one row per device that ever reported.
CREATE TABLE presence (
    device_id   text        PRIMARY KEY,
    site_id     text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('online', 'offline')),
    since       timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    type        text,
    model       text,
    firmware    text
);
CREATE INDEX presence_site_idx ON presence (site_id);

-- Sequence bookkeeping: the highest seq seen, how many gaps and missing numbers, and how many replays
-- (a seq at or below the highest already seen, e.g. a redelivery or a device replaying its buffer).
CREATE TABLE seq_stats (
    device_id   text        PRIMARY KEY,
    last_seq    bigint      NOT NULL,
    messages    bigint      NOT NULL DEFAULT 0,
    gaps        bigint      NOT NULL DEFAULT 0,
    missing     bigint      NOT NULL DEFAULT 0,
    replays     bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL
);
