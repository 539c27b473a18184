-- TimescaleDB mode: the hourly rollups as a hypertable with their own compression and retention, and the raw
-- table without its default time index. Policies run as TimescaleDB jobs; propwatch checks them and runs those
-- the server fails to run (ingest.maintenance, docs/operations.md).
--
-- No query filters readings on time alone except inside chunks the planner already picked by time (the rollup
-- refresh reads whole one-day chunks, retention drops whole chunks, history reads (device_id, ts) through the
-- primary key), so the (ts DESC) index create_hypertable added only cost writes: 1-2 µs and ~40 bytes a row.
DROP INDEX IF EXISTS readings_ts_idx;

-- A month of hourly rows per chunk; written once a day (a settled day), so compressed once a chunk is full.
SELECT create_hypertable('readings_hourly', 'hour', chunk_time_interval => interval '28 days',
                         create_default_indexes => false, migrate_data => true);
ALTER TABLE readings_hourly SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'hour DESC'
);
SELECT add_compression_policy('readings_hourly', interval '35 days');
SELECT add_retention_policy('readings_hourly', interval '10 years');

-- Retention as plain mode's retention_policies table spells it, read from the TimescaleDB jobs that apply it, so
-- ingest.rollups finds the raw retention boundary the same way in both modes.
CREATE VIEW retention_policies AS
SELECT j.hypertable_name::text AS relation, (j.config ->> 'drop_after')::interval AS drop_after
FROM timescaledb_information.jobs j
WHERE j.proc_name = 'policy_retention' AND j.hypertable_schema = current_schema();
