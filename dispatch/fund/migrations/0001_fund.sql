-- Housing special maintenance fund (住宅专项维修资金): estate model, accounts, append-only ledger, draws,
-- approvals, votes and public disclosures. Money is numeric(14,2), areas numeric(10,2), times timestamptz.

-- Raised by triggers on tables whose rows are evidence: corrections are new rows, never edits.
CREATE FUNCTION fund_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TABLE fund_site_settings (
    site_id         text PRIMARY KEY REFERENCES sites (id),
    has_committee   boolean NOT NULL,
    rule_set        text NOT NULL,
    -- NULL: the rule set's basis applies; set when the owners' assembly agreed otherwise (Civil Code art. 283).
    area_basis      text CHECK (area_basis IN ('building', 'exclusive')),
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fund_building_units (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    site_id     text NOT NULL REFERENCES sites (id),
    building_id text NOT NULL REFERENCES buildings (id),
    name        text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (building_id, name),
    UNIQUE (id, building_id)
);

CREATE TABLE fund_households (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    site_id         text NOT NULL REFERENCES sites (id),
    building_id     text NOT NULL REFERENCES buildings (id),
    unit_id         text NOT NULL,
    room            text NOT NULL,
    building_area   numeric(10,2) NOT NULL CHECK (building_area > 0),
    exclusive_area  numeric(10,2) NOT NULL CHECK (exclusive_area > 0 AND exclusive_area <= building_area),
    developer_held  boolean NOT NULL DEFAULT false,
    owner_user      text,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, room),
    -- The unit must belong to the household's building.
    FOREIGN KEY (unit_id, building_id) REFERENCES fund_building_units (id, building_id)
);
CREATE INDEX fund_households_site_idx ON fund_households (site_id);
CREATE INDEX fund_households_owner_idx ON fund_households (owner_user) WHERE owner_user IS NOT NULL;

-- One account per household. `balance` is the running balance kept in step with the ledger;
-- reconcile() checks it against the ledger's sum.
CREATE TABLE fund_accounts (
    household_id     text PRIMARY KEY REFERENCES fund_households (id),
    site_id          text NOT NULL REFERENCES sites (id),
    balance          numeric(14,2) NOT NULL DEFAULT 0,
    first_deposit    numeric(14,2),
    topup_flagged_at timestamptz,
    opened_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_accounts_site_idx ON fund_accounts (site_id);

CREATE TABLE fund_votes (
    id          bigserial PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites (id),
    scope_type  text NOT NULL CHECK (scope_type IN ('site', 'building', 'unit')),
    scope_id    text NOT NULL,
    matter      text NOT NULL CHECK (matter IN ('use', 'raise')),
    title       text NOT NULL,
    opened_by   text NOT NULL,
    opened_at   timestamptz NOT NULL,
    closes_at   timestamptz NOT NULL CHECK (closes_at > opened_at),
    closed_by   text,
    closed_at   timestamptz,
    CHECK ((closed_by IS NULL) = (closed_at IS NULL))
);

-- The owners entitled to vote, frozen when the vote opens so the denominators cannot move under it.
CREATE TABLE fund_vote_electorate (
    vote_id         bigint NOT NULL REFERENCES fund_votes (id),
    household_id    text NOT NULL REFERENCES fund_households (id),
    exclusive_area  numeric(10,2) NOT NULL CHECK (exclusive_area > 0),
    PRIMARY KEY (vote_id, household_id)
);

-- Every ballot ever cast; a household's latest ballot counts. Kept whole as the evidence of the vote.
CREATE TABLE fund_ballots (
    id              bigserial PRIMARY KEY,
    vote_id         bigint NOT NULL,
    household_id    text NOT NULL,
    choice          text NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    actor           text NOT NULL,
    cast_at         timestamptz NOT NULL,
    FOREIGN KEY (vote_id, household_id) REFERENCES fund_vote_electorate (vote_id, household_id)
);
CREATE INDEX fund_ballots_vote_idx ON fund_ballots (vote_id, household_id, id);

CREATE TABLE fund_vote_results (
    vote_id             bigint PRIMARY KEY REFERENCES fund_votes (id),
    total_area          numeric(12,2) NOT NULL,
    total_heads         integer NOT NULL,
    participating_area  numeric(12,2) NOT NULL,
    participating_heads integer NOT NULL,
    yes_area            numeric(12,2) NOT NULL,
    yes_heads           integer NOT NULL,
    quorum_met          boolean NOT NULL,
    approved            boolean NOT NULL
);

CREATE TABLE fund_draws (
    id                  bigserial PRIMARY KEY,
    site_id             text NOT NULL REFERENCES sites (id),
    kind                text NOT NULL CHECK (kind IN ('emergency', 'voted')),
    work_order_id       bigint REFERENCES work_orders (id),
    work_order_number   text,
    vote_id             bigint REFERENCES fund_votes (id),
    item                text NOT NULL,
    fund_category       text,
    contractor          text NOT NULL,
    scope_type          text NOT NULL CHECK (scope_type IN ('site', 'building', 'unit')),
    scope_id            text NOT NULL,
    estimate            numeric(14,2) NOT NULL CHECK (estimate > 0),
    actual_cost         numeric(14,2) CHECK (actual_cost > 0),
    variance_flagged    boolean,
    state               text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'completed')),
    route               text NOT NULL CHECK (route IN ('committee', 'subdistrict', 'owners_vote')),
    rule_set            text NOT NULL,
    area_basis          text NOT NULL CHECK (area_basis IN ('building', 'exclusive')),
    review_due_at       timestamptz,
    deemed_approval     boolean NOT NULL,
    escalated_at        timestamptz,
    opened_by           text NOT NULL,
    opened_at           timestamptz NOT NULL,
    decided_by          text,
    decided_role        text,
    decided_at          timestamptz,
    decision_comment    text,
    completed_by        text,
    completed_at        timestamptz,
    CHECK ((kind = 'emergency') = (work_order_id IS NOT NULL)),
    CHECK ((kind = 'voted') = (vote_id IS NOT NULL)),
    CHECK ((state = 'completed') = (actual_cost IS NOT NULL))
);
-- One work order draws at most once, whatever retries or races happen above.
CREATE UNIQUE INDEX fund_draws_work_order_uq ON fund_draws (work_order_id) WHERE work_order_id IS NOT NULL;
CREATE UNIQUE INDEX fund_draws_vote_uq ON fund_draws (vote_id) WHERE vote_id IS NOT NULL;
CREATE INDEX fund_draws_pending_idx ON fund_draws (review_due_at) WHERE state = 'pending';
CREATE INDEX fund_draws_site_idx ON fund_draws (site_id, state);

-- Who did what to a draw and when (open, approve, reject, escalate, deemed approval, complete).
CREATE TABLE fund_draw_events (
    id          bigserial PRIMARY KEY,
    draw_id     bigint NOT NULL REFERENCES fund_draws (id),
    event       text NOT NULL,
    actor       text NOT NULL,
    role        text,
    comment     text,
    at          timestamptz NOT NULL
);
CREATE INDEX fund_draw_events_draw_idx ON fund_draw_events (draw_id, id);

-- Signed amounts: credits positive, debits negative; a sale moves the balance with the home (amount 0 marks it).
CREATE TABLE fund_ledger (
    id              bigserial PRIMARY KEY,
    household_id    text NOT NULL REFERENCES fund_accounts (household_id),
    site_id         text NOT NULL REFERENCES sites (id),
    kind            text NOT NULL CHECK (kind IN ('deposit', 'interest', 'draw', 'refund', 'transfer')),
    amount          numeric(14,2) NOT NULL,
    balance_after   numeric(14,2) NOT NULL,
    draw_id         bigint REFERENCES fund_draws (id),
    memo            text NOT NULL DEFAULT '',
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL,
    CHECK (CASE kind WHEN 'deposit' THEN amount > 0
                     WHEN 'interest' THEN amount > 0
                     WHEN 'draw' THEN amount < 0 AND draw_id IS NOT NULL
                     WHEN 'refund' THEN amount < 0
                     WHEN 'transfer' THEN amount = 0 END)
);
CREATE INDEX fund_ledger_household_idx ON fund_ledger (household_id, id);
CREATE INDEX fund_ledger_site_time_idx ON fund_ledger (site_id, created_at);
-- A household is charged for a draw once; the database refuses a second charge even if the code retried.
CREATE UNIQUE INDEX fund_ledger_draw_household_uq ON fund_ledger (draw_id, household_id) WHERE draw_id IS NOT NULL;

CREATE TABLE fund_disclosures (
    id                  bigserial PRIMARY KEY,
    draw_id             bigint NOT NULL UNIQUE REFERENCES fund_draws (id),
    site_id             text NOT NULL REFERENCES sites (id),
    item                text NOT NULL,
    work_order_number   text,
    contractor          text NOT NULL,
    total               numeric(14,2) NOT NULL,
    area_basis          text NOT NULL,
    total_area          numeric(12,2) NOT NULL,
    -- A rate, not an amount: kept to 4 places so the posted figure times an area is checkable.
    cost_per_m2         numeric(14,4) NOT NULL,
    published_at        timestamptz NOT NULL
);
CREATE INDEX fund_disclosures_site_idx ON fund_disclosures (site_id, published_at);

-- Keyed by building/unit/room only: the public page never learns who lives there.
CREATE TABLE fund_disclosure_shares (
    disclosure_id   bigint NOT NULL REFERENCES fund_disclosures (id),
    building_id     text NOT NULL,
    unit_name       text NOT NULL,
    room            text NOT NULL,
    area            numeric(10,2) NOT NULL,
    share           numeric(14,2) NOT NULL CHECK (share >= 0),
    PRIMARY KEY (disclosure_id, building_id, unit_name, room)
);

CREATE TRIGGER fund_ledger_append_only BEFORE UPDATE OR DELETE ON fund_ledger
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();
CREATE TRIGGER fund_ledger_no_truncate BEFORE TRUNCATE ON fund_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION fund_reject_change();
CREATE TRIGGER fund_ballots_append_only BEFORE UPDATE OR DELETE ON fund_ballots
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();
CREATE TRIGGER fund_draw_events_append_only BEFORE UPDATE OR DELETE ON fund_draw_events
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();
CREATE TRIGGER fund_disclosures_append_only BEFORE UPDATE OR DELETE ON fund_disclosures
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();
CREATE TRIGGER fund_disclosure_shares_append_only BEFORE UPDATE OR DELETE ON fund_disclosure_shares
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();
