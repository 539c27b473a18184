-- Fund controls: the committee's authorised amount, ordinary repairs the committee approves within it, and who
-- organised each draw.

-- Notice clause (6): the owners' assembly may authorise the committee to decide on fund use within a set amount.
-- NULL: no amount authorised, so every ordinary (non-emergency) repair needs an owners' vote.
ALTER TABLE fund_site_settings ADD COLUMN committee_limit numeric(14,2) CHECK (committee_limit >= 0);
ALTER TABLE fund_site_settings ADD CONSTRAINT fund_site_settings_limit_needs_committee
    CHECK (has_committee OR committee_limit IS NULL);

-- 'authorised': an ordinary repair of a work order, approved by the committee within its authorised amount.
ALTER TABLE fund_draws DROP CONSTRAINT fund_draws_kind_check;
ALTER TABLE fund_draws DROP CONSTRAINT fund_draws_check;
ALTER TABLE fund_draws ADD CONSTRAINT fund_draws_kind_check CHECK (kind IN ('emergency', 'authorised', 'voted'));
ALTER TABLE fund_draws ADD CONSTRAINT fund_draws_work_order_kinds_check
    CHECK ((kind IN ('emergency', 'authorised')) = (work_order_id IS NOT NULL));

-- Who applied for the draw: the property company, the sub-district office (notice clause 16, an estate without an
-- owners' committee) or the owners (a vote).
ALTER TABLE fund_draws ADD COLUMN organiser text NOT NULL DEFAULT 'property'
    CHECK (organiser IN ('property', 'subdistrict', 'owners'));
UPDATE fund_draws SET organiser = 'owners' WHERE kind = 'voted';
