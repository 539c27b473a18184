-- Plain PostgreSQL mode: propwatch's maintenance (ingest.maintenance) deletes rows older than drop_after, and
-- never raw readings that are not rolled up yet. Change a period with UPDATE; docs/operations.md.
CREATE TABLE retention_policies (
    relation    text     PRIMARY KEY CHECK (relation IN ('readings', 'readings_hourly')),
    drop_after  interval NOT NULL CHECK (drop_after >= interval '8 days')
);
INSERT INTO retention_policies (relation, drop_after) VALUES ('readings', '2 years'), ('readings_hourly', '10 years');

-- The rollup refresh reads a day of readings at a time, and retention deletes by age: both range scans on time.
CREATE INDEX readings_hourly_hour_brin ON readings_hourly USING brin (hour);
