-- TimescaleDB mode: compression, retention and continuous aggregates (written for TimescaleDB 2.x; not run
-- by this repository's test suite, whose embedded PostgreSQL has no timescaledb extension).
-- Compression segmented by (device_id, metric): history queries always filter on both, so a segment
-- decompresses only the series asked for. Chunks compress once a week old (late data is rare after that).
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, metric',
    timescaledb.compress_orderby = 'ts DESC'
);
SELECT add_compression_policy('readings', INTERVAL '7 days');

ALTER TABLE device_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id');
SELECT add_compression_policy('device_events', INTERVAL '30 days');

-- Raw readings are kept two years; the hourly rollup (below) is kept ten, for trend and fund planning.
SELECT add_retention_policy('readings', INTERVAL '2 years');

CREATE MATERIALIZED VIEW readings_1m WITH (timescaledb.continuous) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 minute', ts) AS bucket,
       min(value) AS min, max(value) AS max, avg(value) AS avg, last(value, ts) AS last, count(*) AS count
FROM readings GROUP BY device_id, metric, bucket WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1m',
    start_offset => INTERVAL '2 hours', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');
SELECT add_retention_policy('readings_1m', INTERVAL '90 days');

CREATE MATERIALIZED VIEW readings_1h WITH (timescaledb.continuous) AS
SELECT device_id, metric, time_bucket(INTERVAL '1 hour', ts) AS bucket,
       min(value) AS min, max(value) AS max, avg(value) AS avg, last(value, ts) AS last, count(*) AS count
FROM readings GROUP BY device_id, metric, bucket WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_1h',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
SELECT add_retention_policy('readings_1h', INTERVAL '10 years');
