-- Crew members: the estates they cover (empty = their unit's), a weekly shift schedule in their own time zone,
-- and whether they still take work (a member who left is deactivated, never deleted: orders name them).
ALTER TABLE dispatch_crew
    ADD COLUMN site_ids   text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN shifts     jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- [{"days": ["mon", ...], "start": "08:00", "end": "20:00"}]
    ADD COLUMN timezone   text        NOT NULL DEFAULT 'Asia/Shanghai',
    ADD COLUMN active     boolean     NOT NULL DEFAULT true,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
COMMENT ON COLUMN dispatch_crew.on_shift IS 'clocked in by hand, on top of the scheduled shifts';

-- Where a complaint is: the building's stairwell unit (单元) and the floor; who filed it when an owner did.
ALTER TABLE work_orders
    ADD COLUMN building_unit text,
    ADD COLUMN floor         text,
    ADD COLUMN reporter_user text;
CREATE INDEX work_orders_reporter_idx ON work_orders (reporter_user, created_at DESC) WHERE reporter_user IS NOT NULL;

-- A 12345 hotline ticket behind a work order: the hotline's own number and deadlines, and what is owed back to
-- it (first contact with the complainant, the reply, the closure record) and the complainant's satisfaction as
-- the hotline's call-back reports it. The texts themselves are events of the order.
CREATE TABLE hotline_tickets (
    order_id          bigint      PRIMARY KEY REFERENCES work_orders (id),
    ticket_no         text        NOT NULL UNIQUE,
    received_at       timestamptz NOT NULL,
    contact_due       timestamptz,
    reply_due         timestamptz NOT NULL,
    contacted_at      timestamptz,
    replied_at        timestamptz,
    closed_at         timestamptz,
    satisfaction      text CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    satisfaction_at   timestamptz
);
CREATE INDEX hotline_tickets_owed_idx ON hotline_tickets (reply_due) WHERE closed_at IS NULL;
