-- Plain PostgreSQL mode: a BRIN index keeps time-range scans cheap on the append-mostly wide table.
CREATE INDEX readings_ts_brin ON readings USING brin (ts);
