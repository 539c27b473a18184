-- Versioned anomaly-detector states (rules/anomaly/dbstore.py). A version is trained by the daily refresh from
-- stored history (refresh_day set, so a job that fires twice in one UTC day cannot add a second version) or
-- started by the engine when it had no usable model (refresh_day NULL). The engine's periodic checkpoints
-- overwrite the state of the version it is running, so the newest version is always the one to continue from.
CREATE TABLE anomaly_models (
    key          text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    trained_at   timestamptz NOT NULL,
    refresh_day  date,
    rows_seen    bigint      NOT NULL CHECK (rows_seen >= 0),
    saved_at     timestamptz NOT NULL DEFAULT now(),
    state        jsonb       NOT NULL,
    PRIMARY KEY (key, version),
    UNIQUE (key, refresh_day)
);
