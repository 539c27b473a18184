-- Supervision of property companies (notice clauses 20 and 21): companies, the projects (estates under contract)
-- they serve, the sub-district's inspections and monthly opinions, the monthly credit evaluation, and red and
-- black list entries.

-- btree_gist lets one exclusion constraint compare the site (equality on text) and the contract period (overlap).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE supervision_companies (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL CHECK (length(btrim(name)) > 0),
    credit_code text        NOT NULL UNIQUE CHECK (credit_code ~ '^[0-9A-HJ-NP-RTUW-Y]{18}$'),
    phone       text        NOT NULL DEFAULT '',
    address     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A contract period is a range of the estate's local dates, both ends included. One company serves a site at any
-- time: periods of one site never overlap.
CREATE TABLE supervision_projects (
    id                bigserial     PRIMARY KEY,
    company_id        bigint        NOT NULL REFERENCES supervision_companies (id),
    site_id           text          NOT NULL REFERENCES sites (id),
    starts_on         date          NOT NULL,
    ends_on           date          NOT NULL,
    service_level     text          NOT NULL,
    fee_per_m2_month  numeric(14,2) NOT NULL CHECK (fee_per_m2_month >= 0),
    manager_name      text          NOT NULL,
    manager_phone     text          NOT NULL,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on),
    CONSTRAINT supervision_projects_no_overlap
        EXCLUDE USING gist (site_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&)
);
CREATE INDEX supervision_projects_company_idx ON supervision_projects (company_id);

-- 日常检查: what the sub-district inspector checked at an estate on a day, item by item, and the overall score.
CREATE TABLE supervision_inspections (
    id             bigserial    PRIMARY KEY,
    site_id        text         NOT NULL REFERENCES sites (id),
    company_id     bigint       NOT NULL REFERENCES supervision_companies (id),
    inspected_on   date         NOT NULL,
    inspector_id   bigint       NOT NULL,
    inspector      text         NOT NULL,
    items          jsonb        NOT NULL,  -- [{"item": text, "result": "pass" | "fail", "remarks": text}]
    score          numeric(5,2) NOT NULL CHECK (score BETWEEN 0 AND 100),
    created_at     timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX supervision_inspections_company_idx ON supervision_inspections (company_id, inspected_on);
CREATE INDEX supervision_inspections_site_idx ON supervision_inspections (site_id, inspected_on);

-- 评价意见: the sub-district's opinion of a company for a month (month = its first day); the latest word counts.
CREATE TABLE supervision_opinions (
    company_id  bigint      NOT NULL REFERENCES supervision_companies (id),
    month       date        NOT NULL CHECK (extract(day FROM month) = 1),
    rating      text        NOT NULL,
    text        text        NOT NULL DEFAULT '',
    author      text        NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (company_id, month)
);

-- One evaluation per company and month; a recomputation replaces it. factors: the explanation, factor by factor.
CREATE TABLE supervision_credit_months (
    company_id     bigint       NOT NULL REFERENCES supervision_companies (id),
    month          date         NOT NULL CHECK (extract(day FROM month) = 1),
    model_version  text         NOT NULL,
    score          numeric(5,2) CHECK (score BETWEEN 0 AND 100),
    stars          smallint     CHECK (stars BETWEEN 1 AND 5),
    factors        jsonb        NOT NULL,
    computed_at    timestamptz  NOT NULL,
    PRIMARY KEY (company_id, month),
    CHECK ((score IS NULL) = (stars IS NULL))
);

-- 红黑名单 entries: in effect from effective_from to effective_until (local dates, both included; open-ended when
-- null) while published and not revoked.
CREATE TABLE supervision_list_entries (
    id               bigserial   PRIMARY KEY,
    company_id       bigint      NOT NULL REFERENCES supervision_companies (id),
    list             text        NOT NULL CHECK (list IN ('red', 'black')),
    reason           text        NOT NULL CHECK (length(btrim(reason)) > 0),
    evidence         text        NOT NULL DEFAULT '',
    evidence_links   text[]      NOT NULL DEFAULT '{}',
    work_order_ids   bigint[]    NOT NULL DEFAULT '{}',
    effective_from   date        NOT NULL,
    effective_until  date,
    added_by         text        NOT NULL,
    added_at         timestamptz NOT NULL,
    published        boolean     NOT NULL DEFAULT false,
    published_at     timestamptz,
    revoked_at       timestamptz,
    revoked_by       text,
    revoke_reason    text,
    CHECK (effective_until IS NULL OR effective_until >= effective_from),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX supervision_list_entries_company_idx ON supervision_list_entries (company_id);
