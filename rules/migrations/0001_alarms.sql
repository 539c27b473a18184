-- Rules and alarms. Rule packs are versioned rows (the engine polls for a newer id to hot-reload); alarms are
-- one row per (rule, device-or-scope) instance; every state change is an append-only transition row.
CREATE TABLE rule_packs (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL,
    version     integer     NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    UNIQUE (name, version)
);

CREATE TABLE alarms (
    id            bigserial PRIMARY KEY,
    fingerprint   text        NOT NULL,
    rule_id       text        NOT NULL,
    category      text        NOT NULL,
    severity      text        NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
    state         text        NOT NULL CHECK (state IN ('pending', 'active', 'acknowledged', 'cleared')),
    site_id       text        NOT NULL,
    building_id   text,
    device_id     text,
    title_zh      text        NOT NULL,
    title_en      text        NOT NULL,
    value         double precision,
    detail        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    activated_at  timestamptz,
    acked_at      timestamptz,
    acked_by      text,
    ack_comment   text,
    assigned_to   text,
    cleared_at    timestamptz,
    recovering_since timestamptz,
    suppressed    boolean     NOT NULL DEFAULT false,
    manual_clear  boolean     NOT NULL DEFAULT false
);
-- The deduplication guarantee: at most one open instance per fingerprint, whatever the engine believes.
CREATE UNIQUE INDEX alarms_open_fingerprint_uq ON alarms (fingerprint) WHERE state <> 'cleared';
CREATE INDEX alarms_open_idx ON alarms (state, severity, last_seen DESC) WHERE state <> 'cleared';
CREATE INDEX alarms_device_idx ON alarms (device_id, first_seen DESC);
CREATE INDEX alarms_site_idx ON alarms (site_id, first_seen DESC);

CREATE TABLE alarm_transitions (
    id          bigserial PRIMARY KEY,
    alarm_id    bigint      NOT NULL REFERENCES alarms (id),
    from_state  text,
    to_state    text        NOT NULL,
    at          timestamptz NOT NULL,
    cause       text        NOT NULL,
    actor       text,
    suppressed  boolean     NOT NULL DEFAULT false,
    vals        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarm_transitions_alarm_idx ON alarm_transitions (alarm_id, id);
-- Operator actions are what a running engine must pick up from other processes.
CREATE INDEX alarm_transitions_actor_idx ON alarm_transitions (id) WHERE actor IS NOT NULL;

CREATE RULE alarm_transitions_append_only_update AS ON UPDATE TO alarm_transitions DO INSTEAD NOTHING;
CREATE RULE alarm_transitions_append_only_delete AS ON DELETE TO alarm_transitions DO INSTEAD NOTHING;

-- Silences and maintenance windows. recurrence is an RFC 5545 RRULE subset (FREQ=DAILY|WEEKLY[;BYDAY=..]
-- [;UNTIL=..]); starts_at/ends_at are then the first occurrence.
CREATE TABLE silences (
    id          bigserial PRIMARY KEY,
    scope_type  text        NOT NULL CHECK (scope_type IN ('device', 'building', 'site')),
    scope_id    text        NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    recurrence  text,
    actor       text        NOT NULL,
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX silences_scope_idx ON silences (scope_type, scope_id);
