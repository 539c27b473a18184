-- The list item's breach actions (e.g. {"arrive": "platform_dispatch"}) travel with the order like its
-- escalation chain, so a later list version never changes what an order already running does.
ALTER TABLE work_orders ADD COLUMN on_breach jsonb NOT NULL DEFAULT '{}'::jsonb;
COMMENT ON COLUMN work_orders.escalation IS '[[unit id, ...] per level], copied from the list item';

-- Who last changed a unit or a crew member (shift status included), for the audit trail.
ALTER TABLE dispatch_units ADD COLUMN updated_by text;
ALTER TABLE dispatch_crew ADD COLUMN updated_by text;
