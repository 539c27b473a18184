-- What the system records on a draw's step is kept as facts (`data`), not as English text in `comment`: pages
-- word it in the reader's language. `comment` keeps only what a person wrote (a reviewer's reason).
--   opened:          {"kind": "emergency"|"authorised"|"voted"|"insurance", "estimate": "850.00",
--                     "vote_id": 3 (voted), "policy_number": "…" (insurance)}
--   deemed_approved: {"review_due_at": "…", "rule_set": "fujian"}
--   escalated:       {"review_due_at": "…"}
--   completed:       {"actual_cost": "…", "estimate": "…", "variance_flagged": true|false}
-- The table is append-only (fund_draw_events_append_only): steps recorded before keep their English comment and
-- pages read the same facts from it (dashboard/ui/draw_steps.py).
ALTER TABLE fund_draw_events ADD COLUMN data jsonb NOT NULL DEFAULT '{}'::jsonb;
