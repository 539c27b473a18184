-- Dispatch: responsible units and crews, the versioned responsibility list (权责清单), work orders with their
-- append-only event log, SLA steps (the scheduler's durable timers), offers to crew, preventive plans and the
-- notification outbox.

CREATE TABLE dispatch_units (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    kind        text        NOT NULL,
    name        text        NOT NULL,
    name_en     text,
    site_ids    text[]      NOT NULL DEFAULT '{}',  -- empty = serves every site
    contacts    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dispatch_crew (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    unit_id     text        NOT NULL REFERENCES dispatch_units (id),
    name        text        NOT NULL,
    phone       text        NOT NULL DEFAULT '',
    skills      text[]      NOT NULL DEFAULT '{}',
    on_shift    boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispatch_crew_unit_idx ON dispatch_crew (unit_id);

CREATE TABLE responsibility_versions (
    version     serial PRIMARY KEY,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text        NOT NULL,
    digest      text        NOT NULL,
    body        jsonb       NOT NULL  -- the parsed list, for export
);

CREATE TABLE responsibility_items (
    version        integer NOT NULL REFERENCES responsibility_versions (version),
    position       integer NOT NULL,
    category       text    NOT NULL,
    component      text    NOT NULL,            -- '*' = any component
    site_id        text    NOT NULL,            -- '*' = any site
    building_id    text    NOT NULL,            -- '*' = any building
    unit_id        text    NOT NULL REFERENCES dispatch_units (id),
    skill          text    NOT NULL,
    sop            text    NOT NULL,
    sla            jsonb   NOT NULL,            -- {"default": {step: seconds}, "regions": {region: {step: seconds}}}
    on_breach      jsonb   NOT NULL DEFAULT '{}'::jsonb,
    escalation     jsonb   NOT NULL,            -- [[unit id, ...] per level]
    accept_timeout_s integer NOT NULL,
    emergency      boolean NOT NULL,
    fund_category  text,
    source         text    NOT NULL,
    PRIMARY KEY (version, position),
    UNIQUE (version, category, component, site_id, building_id)
);

CREATE TABLE work_order_numbers (
    day  date    PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE work_orders (
    id                bigserial PRIMARY KEY,
    number            text        NOT NULL UNIQUE,
    site_id           text        NOT NULL REFERENCES sites (id),
    building_id       text,
    device_id         text,
    category          text        NOT NULL,
    component         text        NOT NULL,
    severity          text        NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
    origin            text        NOT NULL CHECK (origin IN ('alarm', 'owner_report', 'hotline_12345', 'preventive')),
    state             text        NOT NULL,
    title             text        NOT NULL,
    description       text,
    address           text,
    address_key       text,
    reporter_contact  text,
    incident_key      text,
    repeat_of         bigint REFERENCES work_orders (id),
    unit_id           text        NOT NULL REFERENCES dispatch_units (id),
    skill             text        NOT NULL,
    assignee_id       text REFERENCES dispatch_crew (id),
    offered_to        text REFERENCES dispatch_crew (id),
    offer_expires_at  timestamptz,
    accept_timeout_s  integer     NOT NULL,
    escalation        jsonb       NOT NULL,
    escalation_level  integer     NOT NULL DEFAULT 0,
    platform_dispatch boolean     NOT NULL DEFAULT false,
    emergency         boolean     NOT NULL,
    fund_category     text,
    responsibility_version integer REFERENCES responsibility_versions (version),
    created_at        timestamptz NOT NULL,
    acked_at          timestamptz,
    dispatched_at     timestamptz,
    en_route_at       timestamptz,
    on_site_at        timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    updated_at        timestamptz NOT NULL
);
-- One open order per incident: re-fires and related alarms attach to it instead of opening another.
CREATE UNIQUE INDEX work_orders_open_incident_uq ON work_orders (incident_key)
    WHERE state NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED', 'CANCELLED', 'FALSE_ALARM');
CREATE INDEX work_orders_state_idx ON work_orders (state, created_at DESC);
CREATE INDEX work_orders_site_idx ON work_orders (site_id, created_at DESC);
CREATE INDEX work_orders_unit_idx ON work_orders (unit_id, created_at DESC);
CREATE INDEX work_orders_assignee_idx ON work_orders (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX work_orders_offer_idx ON work_orders (offer_expires_at) WHERE offered_to IS NOT NULL;
CREATE INDEX work_orders_address_idx ON work_orders (address_key, category, created_at) WHERE address_key IS NOT NULL;
CREATE INDEX work_orders_device_idx ON work_orders (device_id, category, created_at) WHERE device_id IS NOT NULL;

CREATE TABLE work_order_photos (
    id           bigserial PRIMARY KEY,
    order_id     bigint      NOT NULL REFERENCES work_orders (id),
    path         text        NOT NULL,  -- relative to the uploads dir
    content_type text        NOT NULL,
    size         integer     NOT NULL,
    sha256       text        NOT NULL,
    uploaded_by  text        NOT NULL,
    uploaded_at  timestamptz NOT NULL
);
CREATE INDEX work_order_photos_order_idx ON work_order_photos (order_id);

CREATE TABLE work_order_events (
    id          bigserial PRIMARY KEY,
    order_id    bigint        NOT NULL REFERENCES work_orders (id),
    at          timestamptz   NOT NULL,
    actor       text          NOT NULL,
    kind        text          NOT NULL,  -- transition, alarm, offer, escalation, photo, note
    from_state  text,
    to_state    text,
    note        text,
    labour_cost numeric(14,2) CHECK (labour_cost >= 0),
    parts       jsonb         NOT NULL DEFAULT '[]'::jsonb,
    parts_cost  numeric(14,2) NOT NULL DEFAULT 0 CHECK (parts_cost >= 0),
    photo_ids   bigint[]      NOT NULL DEFAULT '{}',
    data        jsonb         NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX work_order_events_order_idx ON work_order_events (order_id, id);
CREATE RULE work_order_events_append_only_update AS ON UPDATE TO work_order_events DO INSTEAD NOTHING;
CREATE RULE work_order_events_append_only_delete AS ON DELETE TO work_order_events DO INSTEAD NOTHING;

CREATE TABLE work_order_alarms (
    order_id      bigint      NOT NULL REFERENCES work_orders (id),
    alarm_id      bigint      NOT NULL,
    transition_id bigint      NOT NULL,
    category      text        NOT NULL,
    at            timestamptz NOT NULL,
    PRIMARY KEY (order_id, transition_id)
);
CREATE INDEX work_order_alarms_alarm_idx ON work_order_alarms (alarm_id);

CREATE TABLE work_order_offers (
    id          bigserial PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES work_orders (id),
    crew_id     text        NOT NULL REFERENCES dispatch_crew (id),
    offered_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    outcome     text CHECK (outcome IN ('accepted', 'timed_out', 'superseded'))
);
CREATE INDEX work_order_offers_order_idx ON work_order_offers (order_id);

-- Durable SLA timers. A step fires at most once: the scanner claims it with
-- UPDATE ... SET fired_at = .. WHERE fired_at IS NULL ... RETURNING, so restarts and concurrent scanners
-- never lose or repeat one.
CREATE TABLE sla_steps (
    id           bigserial PRIMARY KEY,
    order_id     bigint      NOT NULL REFERENCES work_orders (id),
    step         text        NOT NULL CHECK (step IN ('ack', 'dispatch', 'arrive', 'resolve')),
    due_at       timestamptz NOT NULL,
    satisfied_at timestamptz,
    cancelled_at timestamptz,
    fired_at     timestamptz,
    UNIQUE (order_id, step)
);
CREATE INDEX sla_steps_due_idx ON sla_steps (due_at)
    WHERE fired_at IS NULL AND satisfied_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE dispatch_notifications (
    id          bigserial PRIMARY KEY,
    order_id    bigint      REFERENCES work_orders (id),
    kind        text        NOT NULL,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX dispatch_notifications_pending_idx ON dispatch_notifications (id) WHERE sent_at IS NULL;

CREATE TABLE dispatch_cursors (
    name     text PRIMARY KEY,
    last_id  bigint NOT NULL DEFAULT 0
);
INSERT INTO dispatch_cursors (name, last_id) VALUES ('alarm_transitions', 0);

CREATE TABLE preventive_plans (
    id           bigserial PRIMARY KEY,
    template     text        NOT NULL,
    site_id      text        NOT NULL REFERENCES sites (id),
    building_id  text,
    device_id    text,
    next_due_at  timestamptz NOT NULL,
    active       boolean     NOT NULL DEFAULT true,
    created_by   text        NOT NULL,
    UNIQUE (template, site_id, device_id)
);
CREATE INDEX preventive_plans_due_idx ON preventive_plans (next_due_at) WHERE active;
