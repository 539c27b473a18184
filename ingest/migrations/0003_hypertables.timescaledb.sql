-- TimescaleDB mode: time-partitioned hypertables. One-day chunks keep the active chunk of a few thousand
-- devices well inside shared_buffers on a small server.
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day', migrate_data => true);
SELECT create_hypertable('device_events', 'ts', chunk_time_interval => interval '7 days', migrate_data => true);
