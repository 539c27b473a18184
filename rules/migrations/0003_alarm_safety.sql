-- Silences that expire and can be ended, alarms that remember the silence they started in, latch when a P0/P1
-- returns to normal unacknowledged (ISA-18.2), and say whether their rule can clear them at all.

-- The site a silence lies in (scoping lists by the user's sites), when it ends for good (the last occurrence's
-- end, or ends_at), whether it is "maintenance in progress", and who ended it early.
ALTER TABLE silences
    ADD COLUMN site_id     text,
    ADD COLUMN expires_at  timestamptz,
    ADD COLUMN maintenance boolean NOT NULL DEFAULT false,
    ADD COLUMN ended_at    timestamptz,
    ADD COLUMN ended_by    text,
    ADD COLUMN end_reason  text;

UPDATE silences SET site_id = scope_id WHERE scope_type = 'site';
-- A recurring silence recorded before expiry was required ends with its UNTIL occurrence, or never.
UPDATE silences SET expires_at = CASE
    WHEN recurrence IS NULL THEN ends_at
    WHEN recurrence ~ 'UNTIL=\d{8}T\d{6}Z' THEN
        (to_timestamp(substring(recurrence from 'UNTIL=(\d{8}T\d{6})Z'), 'YYYYMMDD"T"HH24MISS')::timestamp
            AT TIME ZONE 'UTC') + (ends_at - starts_at)
    ELSE 'infinity' END;
ALTER TABLE silences ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX silences_site_idx ON silences (site_id, expires_at);

ALTER TABLE alarms
    -- A silence covered the alarm when it started (suppressed says whether it was muted: a P0 never is).
    ADD COLUMN raised_in_silence boolean NOT NULL DEFAULT false,
    ADD COLUMN silence_id        bigint REFERENCES silences (id),
    -- Set while an active, unacknowledged P0/P1 alarm's condition has returned to normal: the alarm stays
    -- active (latched) until someone acknowledges it.
    ADD COLUMN returned_at       timestamptz,
    -- False for rules that have no clearing event (an event without clear_events): such an alarm clears when
    -- an operator clears it or when its work order closes.
    ADD COLUMN self_clearing     boolean NOT NULL DEFAULT true;
CREATE INDEX alarms_silence_idx ON alarms (silence_id) WHERE silence_id IS NOT NULL;
