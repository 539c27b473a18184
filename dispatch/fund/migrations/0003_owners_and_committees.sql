-- Owners and committees (issue 20): vote matters and thresholds from data, published vote results, shared-part
-- income and expenses (notice clause 8; Civil Code art. 282), the annual disclosure workflow (clauses 8, 17;
-- Order 165 art. 30) and elevator safety liability insurance as a fund use (clause 16).

-- The matters and their thresholds live in dispatch/fund/data/vote_rules.yaml; the code checks a matter against
-- it. Each vote keeps the rule it was opened under, so editing the file never re-decides an old vote.
ALTER TABLE fund_votes DROP CONSTRAINT fund_votes_matter_check;
ALTER TABLE fund_votes ADD COLUMN amount numeric(14,2) CHECK (amount > 0);
ALTER TABLE fund_votes ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE fund_votes ADD COLUMN rules jsonb;

-- Closing a vote publishes its result to the estate's owners and on the public board.
ALTER TABLE fund_vote_results ADD COLUMN published_at timestamptz;
UPDATE fund_vote_results r SET published_at = v.closed_at FROM fund_votes v WHERE v.id = r.vote_id;
CREATE TRIGGER fund_vote_results_append_only BEFORE UPDATE OR DELETE ON fund_vote_results
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();

-- What a draw paid for. 'insurance': elevator safety liability insurance the committee (or, without one, the
-- sub-district office) approves; bought after an owners' vote it is a 'voted' draw with the same purpose.
ALTER TABLE fund_draws DROP CONSTRAINT fund_draws_kind_check;
ALTER TABLE fund_draws ADD CONSTRAINT fund_draws_kind_check
    CHECK (kind IN ('emergency', 'authorised', 'voted', 'insurance'));
ALTER TABLE fund_draws ADD COLUMN purpose text NOT NULL DEFAULT 'repair'
    CHECK (purpose IN ('repair', 'elevator_insurance'));
ALTER TABLE fund_draws ADD CONSTRAINT fund_draws_insurance_purpose_check
    CHECK (kind <> 'insurance' OR purpose = 'elevator_insurance');

-- Whether the owners' assembly requires a vote for each insurance purchase instead of the committee's approval.
ALTER TABLE fund_site_settings ADD COLUMN insurance_by_vote boolean NOT NULL DEFAULT false;

CREATE TABLE fund_insurance_policies (
    draw_id         bigint PRIMARY KEY REFERENCES fund_draws (id),
    site_id         text NOT NULL REFERENCES sites (id),
    policy_number   text NOT NULL,
    insurer         text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL CHECK (period_end > period_start),
    premium         numeric(14,2) NOT NULL CHECK (premium > 0),
    UNIQUE (insurer, policy_number)
);

CREATE TABLE fund_insurance_elevators (
    draw_id     bigint NOT NULL REFERENCES fund_insurance_policies (draw_id),
    device_id   text NOT NULL REFERENCES devices (id),
    PRIMARY KEY (draw_id, device_id)
);

-- Income earned from the owners' shared parts (advertising, parking on shared ground, ...) and the expenses
-- charged against it. Evidence: never edited.
CREATE TABLE fund_shared_part_entries (
    id              bigserial PRIMARY KEY,
    site_id         text NOT NULL REFERENCES sites (id),
    direction       text NOT NULL CHECK (direction IN ('income', 'expense')),
    category        text NOT NULL,
    amount          numeric(14,2) NOT NULL CHECK (amount > 0),
    occurred_on     date NOT NULL,
    counterparty    text NOT NULL CHECK (length(counterparty) BETWEEN 2 AND 200),
    basis           text NOT NULL CHECK (length(basis) BETWEEN 1 AND 500),
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX fund_shared_part_entries_site_idx ON fund_shared_part_entries (site_id, occurred_on);
CREATE TRIGGER fund_shared_part_entries_append_only BEFORE UPDATE OR DELETE ON fund_shared_part_entries
    FOR EACH ROW EXECUTE FUNCTION fund_reject_change();

-- The yearly disclosure of fund management and shared-part income: draft -> reviewed -> published. Re-generating
-- makes a new version; a published version is never changed or deleted.
CREATE TABLE fund_annual_disclosures (
    id              bigserial PRIMARY KEY,
    site_id         text NOT NULL REFERENCES sites (id),
    year            integer NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    version         integer NOT NULL CHECK (version >= 1),
    state           text NOT NULL CHECK (state IN ('draft', 'reviewed', 'published')),
    content         jsonb NOT NULL,
    generated_by    text NOT NULL,
    generated_at    timestamptz NOT NULL,
    reviewed_by     text,
    reviewed_at     timestamptz,
    review_comment  text,
    published_by    text,
    published_at    timestamptz,
    UNIQUE (site_id, year, version),
    CHECK (state = 'draft' OR reviewed_at IS NOT NULL),
    CHECK ((state = 'published') = (published_at IS NOT NULL))
);

CREATE FUNCTION fund_annual_disclosure_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.state = 'published' THEN
        RAISE EXCEPTION 'fund_annual_disclosures %: % of a % version rejected', OLD.id, TG_OP, OLD.state
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER fund_annual_disclosures_guard BEFORE UPDATE OR DELETE ON fund_annual_disclosures
    FOR EACH ROW EXECUTE FUNCTION fund_annual_disclosure_guard();
