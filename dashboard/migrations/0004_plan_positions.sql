-- Where an admin moved a building or a device on the estate plan (/estate, dashboard.plan). Anything without a
-- row is placed by the layout generated from the registry. A device inside a building is placed relative to
-- its building, so moving the building carries its devices along.
CREATE TABLE web_plan_positions (
    site_id   text        NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind      text        NOT NULL CHECK (kind IN ('building', 'device')),
    item_id   text        NOT NULL,
    x         real        NOT NULL,
    y         real        NOT NULL,
    moved_by  text        NOT NULL,
    moved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, kind, item_id)
);
