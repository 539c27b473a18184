-- TimescaleDB mode: the wide table as a hypertable with one-day chunks (as before). Compressed chunks are
-- segmented by device, so a history query decompresses only the asked device's segments; raw data is kept
-- two years, as before.
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day', migrate_data => true);
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'ts DESC'
);
SELECT add_compression_policy('readings', INTERVAL '7 days');
SELECT add_retention_policy('readings', INTERVAL '2 years');
