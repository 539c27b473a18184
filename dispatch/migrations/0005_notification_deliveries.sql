-- Delivering queued notifications through configured channels. A notification is routed once (routed_at) into
-- one delivery per channel; each delivery is retried with backoff on its own, so a failing e-mail server never
-- resends a webhook that went through. Deliveries are the per-order status the API shows.
ALTER TABLE dispatch_notifications ADD COLUMN routed_at timestamptz;
-- What the former sender already sent, or gave up on after its five attempts, is not sent again.
UPDATE dispatch_notifications SET routed_at = coalesce(sent_at, created_at) WHERE sent_at IS NOT NULL OR attempts >= 5;
DROP INDEX dispatch_notifications_pending_idx;
ALTER TABLE dispatch_notifications DROP COLUMN sent_at, DROP COLUMN attempts, DROP COLUMN last_error;
CREATE INDEX dispatch_notifications_unrouted_idx ON dispatch_notifications (id) WHERE routed_at IS NULL;

CREATE TABLE dispatch_deliveries (
    id              bigserial PRIMARY KEY,
    notification_id bigint      NOT NULL REFERENCES dispatch_notifications (id),
    order_id        bigint      REFERENCES work_orders (id),
    channel         text        NOT NULL,  -- a channel of the notification configuration; '-' when none applies
    channel_type    text        NOT NULL,  -- webhook, wecom, sms, email, log, or the class of a custom channel
    recipients      jsonb       NOT NULL,  -- [{"kind": "unit" | "crew", "id": ..}]: ids only, addresses resolved at send
    state           text        NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'unrouted')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,                  -- an error class or a status code, never an address
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (notification_id, channel)
);
CREATE INDEX dispatch_deliveries_due_idx ON dispatch_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX dispatch_deliveries_order_idx ON dispatch_deliveries (order_id, id);
