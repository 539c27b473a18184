"""The art. 278 thresholds are data with their sources, read exactly, and each vote keeps the rule it opened under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import psycopg
import pytest

from dispatch.fund import vote_rules, votes

from .conftest import Estate

RULES = """
area: {value: exclusive, source: "art. 278"}
quorum: {area: "2/3", heads: "2/3", comparison: at_least, source: "art. 278"}
matters:
  - {id: use, zh: 使用, en: Use, approval: {area: "1/2", heads: "1/2", comparison: more_than}, source: "art. 278 (5)"}
"""


def test_every_shipped_matter_has_its_source_and_exact_fractions() -> None:
    rules = vote_rules.load_vote_rules()
    assert set(rules) == {"use", "raise", "rebuild", "change_use", "other"}
    assert all("278" in r.approval_source and "278" in r.quorum_source for r in rules.values())
    assert rules["use"].quorum.area == Fraction(2, 3) and rules["raise"].approval.heads == Fraction(3, 4)


def test_a_matter_without_a_source_is_refused() -> None:
    with pytest.raises(ValueError, match="no source"):
        vote_rules.parse_vote_rules(RULES.replace(', source: "art. 278 (5)"', ""))


def test_at_least_includes_the_boundary_and_more_than_excludes_it() -> None:
    rule = vote_rules.parse_vote_rules(RULES)["use"]
    assert rule.quorum.met(Fraction(2, 3), Fraction(2, 3))
    assert not rule.quorum.met(Fraction(19999, 30000), Fraction(2, 3))
    assert not rule.approval.met(Fraction(1, 2), Fraction(3, 4))


def test_a_vote_keeps_the_rule_it_was_opened_under(db: psycopg.Connection, estate: Estate) -> None:
    opened = datetime(2026, 11, 23, 2, tzinfo=UTC)
    vote = votes.open_vote(db, site_id=estate.site_id, scope_type="site", scope_id=estate.site_id, matter="raise",
                           title="续筹", closes_at=opened + timedelta(days=7), actor="committee", now=opened)
    stored = db.execute("SELECT rules FROM fund_votes WHERE id = %s", (vote.id,)).fetchone()[0]
    assert stored["approval"] == {"area": "3/4", "heads": "3/4", "comparison": "at_least"}
    assert votes.get_vote(db, vote.id).rule == vote_rules.load_vote_rules()["raise"]
