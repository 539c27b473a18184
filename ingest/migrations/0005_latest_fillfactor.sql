-- Every flush rewrites the latest row of each (device, metric) it saw. Half-empty pages let those updates be
-- HOT (same page, no index entry), and aggressive autovacuum reclaims the old versions before they bloat it.
ALTER TABLE latest_readings SET (
    fillfactor = 50,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 10000
);
