-- Plain PostgreSQL mode: same tables; a BRIN index keeps time-range scans cheap on append-mostly data.
CREATE INDEX readings_ts_brin ON readings USING brin (ts);
CREATE INDEX device_events_ts_brin ON device_events USING brin (ts);
