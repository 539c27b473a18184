-- The estate registry: sites (estates), buildings and monitored devices. Owned by ingest because every
-- other package reads it; writes go through ingest.registry.
CREATE TABLE sites (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    name        text NOT NULL,
    name_en     text,
    region      text NOT NULL DEFAULT 'default',
    address     text,
    timezone    text NOT NULL DEFAULT 'Asia/Shanghai',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE buildings (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    site_id     text NOT NULL REFERENCES sites (id),
    name        text NOT NULL,
    floors      integer CHECK (floors > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX buildings_site_idx ON buildings (site_id);

CREATE TABLE devices (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    site_id     text NOT NULL REFERENCES sites (id),
    building_id text REFERENCES buildings (id),
    type        text NOT NULL,
    name        text NOT NULL,
    model       text,
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_site_idx ON devices (site_id);
CREATE INDEX devices_building_idx ON devices (building_id);
