-- Recent hours rolled up too (docs/operations.md, "Rollups and retention"): ingest.rollups.refresh_recent rolls
-- up each hour about ten minutes after it ends, so charts of long ranges read hourly rows instead of a week of
-- raw ones. A reading that arrives for an hour that may have been rolled up already (its hour ended five minutes
-- or more before it was written) marks that hour here, in the same transaction; the next pass rolls it up again.
-- Settled days are rolled up once more by ingest.rollups.refresh, as before.
CREATE TABLE rollup_invalidations (
    device_id  text        NOT NULL,
    hour       timestamptz NOT NULL,
    PRIMARY KEY (device_id, hour)
);
