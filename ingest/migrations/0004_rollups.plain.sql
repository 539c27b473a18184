-- Plain PostgreSQL mode: no continuous aggregates; ingest.history computes rollups with date_bin over the
-- readings primary key (device_id, metric, ts), which serves every history range scan.
-- Old raw readings are pruned by the operator (docs/ingest.md); nothing to create here.
SELECT 1;
