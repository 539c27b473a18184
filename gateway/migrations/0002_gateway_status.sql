-- What each gateway session last reported about itself, so any process (the web app's readiness check) can
-- tell whether ingestion keeps up. Times are the database's clock and the gateway's own elapsed times, so
-- clocks of different hosts never meet.
CREATE TABLE gateway_status (
    client_id   text        PRIMARY KEY,
    reported_at timestamptz NOT NULL,
    -- Messages received and not yet committed and acknowledged.
    waiting     integer     NOT NULL,
    -- At the report: how long messages had been waiting without a commit; NULL when none waited.
    stuck_for   interval,
    -- The gateway's bound on stuck_for, and on how long it may go without reporting.
    stall_after interval    NOT NULL
);
