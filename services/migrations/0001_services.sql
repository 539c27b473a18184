-- What the property company offers and publishes (notice clauses 11, 15, 19): its service list with standards
-- and prices, every price adjustment, home-service bookings, and the board items it maintains.

-- One service or fee item of an estate. kind: 'contract' (provided under the property service contract),
-- 'extra' (a paid extra service, bookable when published), 'fee' (a fee item of the property fee, 收费项目).
CREATE TABLE service_items (
    id           bigserial   PRIMARY KEY,
    site_id      text        NOT NULL REFERENCES sites (id),
    code         text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('contract', 'extra', 'fee')),
    name         text        NOT NULL,
    name_en      text,
    content      text        NOT NULL,
    standard     text        NOT NULL,
    bookable     boolean     NOT NULL DEFAULT false,
    published    boolean     NOT NULL DEFAULT true,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_by   text        NOT NULL,
    updated_role text        NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (site_id, code),
    CHECK (NOT bookable OR kind = 'extra')
);

-- Every price a service ever had, append-only: the first price and each adjustment, with the price it replaced,
-- the date it takes effect, its basis (contract clause, owners' decision) and who made it.
CREATE TABLE service_prices (
    id             bigserial     PRIMARY KEY,
    service_id     bigint        NOT NULL REFERENCES service_items (id),
    price          numeric(14,2) NOT NULL CHECK (price >= 0),
    unit           text          NOT NULL,
    previous_price numeric(14,2),
    previous_unit  text,
    effective_from date          NOT NULL,
    basis          text          NOT NULL CHECK (basis <> ''),
    set_by         text          NOT NULL,
    set_role       text          NOT NULL,
    set_at         timestamptz   NOT NULL,
    UNIQUE (service_id, effective_from)
);
CREATE RULE service_prices_append_only_update AS ON UPDATE TO service_prices DO INSTEAD NOTHING;
CREATE RULE service_prices_append_only_delete AS ON DELETE TO service_prices DO INSTEAD NOTHING;

-- A household's booking of a bookable service (clause 15), priced at booking time.
CREATE TABLE service_bookings (
    id             bigserial     PRIMARY KEY,
    site_id        text          NOT NULL REFERENCES sites (id),
    service_id     bigint        NOT NULL REFERENCES service_items (id),
    household_id   text          NOT NULL REFERENCES fund_households (id),
    booked_by      text          NOT NULL,
    slot_start     timestamptz   NOT NULL,
    slot_end       timestamptz   NOT NULL CHECK (slot_end > slot_start),
    note           text          NOT NULL DEFAULT '',
    price          numeric(14,2) NOT NULL,
    unit           text          NOT NULL,
    state          text          NOT NULL CHECK (state IN ('requested', 'confirmed', 'done', 'rated', 'cancelled')),
    requested_at   timestamptz   NOT NULL,
    confirmed_at   timestamptz,
    confirmed_by   text,
    done_at        timestamptz,
    done_by        text,
    rated_at       timestamptz,
    rating         smallint CHECK (rating BETWEEN 1 AND 5),
    rating_comment text,
    cancelled_at   timestamptz,
    cancelled_by   text,
    cancelled_role text,
    cancel_reason  text
);
CREATE INDEX service_bookings_site_idx ON service_bookings (site_id, requested_at DESC);
CREATE INDEX service_bookings_household_idx ON service_bookings (household_id, requested_at DESC);
CREATE INDEX service_bookings_rated_idx ON service_bookings (site_id, rated_at) WHERE rated_at IS NOT NULL;

-- Board items the company maintains (clause 19). Parking: one row per estate.
CREATE TABLE board_parking (
    site_id      text        PRIMARY KEY REFERENCES sites (id),
    total        integer     NOT NULL CHECK (total >= 0),
    sold         integer     NOT NULL CHECK (sold >= 0),
    rented       integer     NOT NULL CHECK (rented >= 0),
    visitor      integer     NOT NULL CHECK (visitor >= 0),
    note         text        NOT NULL DEFAULT '',
    updated_by   text        NOT NULL,
    updated_role text        NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (sold + rented + visitor <= total)
);

-- Public water and power apportionment (公共水电分摊): one row per estate, month and utility.
CREATE TABLE board_apportionments (
    site_id      text          NOT NULL REFERENCES sites (id),
    month        date          NOT NULL CHECK (extract(day FROM month) = 1),
    utility      text          NOT NULL CHECK (utility IN ('water', 'power')),
    total        numeric(14,2) NOT NULL CHECK (total >= 0),
    basis        text          NOT NULL CHECK (basis <> ''),
    method       text          NOT NULL CHECK (method IN ('area', 'household')),
    updated_by   text          NOT NULL,
    updated_role text          NOT NULL,
    updated_at   timestamptz   NOT NULL,
    PRIMARY KEY (site_id, month, utility)
);

-- Property fee income and spending (物业费收支) the company discloses, one row per period ('2026', '2026-H1').
CREATE TABLE board_fee_statements (
    site_id      text          NOT NULL REFERENCES sites (id),
    period       text          NOT NULL CHECK (period ~ '^[0-9]{4}(-(H[12]|Q[1-4]|[01][0-9]))?$'),
    income       numeric(14,2) NOT NULL CHECK (income >= 0),
    spending     numeric(14,2) NOT NULL CHECK (spending >= 0),
    note         text          NOT NULL DEFAULT '',
    updated_by   text          NOT NULL,
    updated_role text          NOT NULL,
    updated_at   timestamptz   NOT NULL,
    PRIMARY KEY (site_id, period)
);

-- The estate's own complaint phones (物业服务中心投诉电话), beside the national ones of services/data.
CREATE TABLE board_complaint_phones (
    site_id      text        NOT NULL REFERENCES sites (id),
    position     integer     NOT NULL,
    name         text        NOT NULL,
    name_en      text,
    phone        text        NOT NULL CHECK (phone ~ '^[0-9+() -]{3,30}$'),
    hours        text        NOT NULL DEFAULT '',
    updated_by   text        NOT NULL,
    updated_role text        NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (site_id, position)
);
