"""Regional rules are data: every rule set cites its sources and resolves from the site's area code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dispatch.fund.regions import load_regions, parse_regions


def test_every_rule_of_every_region_names_its_source_and_region() -> None:
    for rules in load_regions().rule_sets.values():
        assert set(rules.sources) == {"emergency_list", "review", "apportionment_basis", "topup_threshold",
                                      "variance_flag"}
        assert all("region:" in source for source in rules.sources.values())


def test_the_top_up_threshold_is_marked_as_attributed() -> None:
    assert "⚠" in load_regions().get("national").sources["topup_threshold"]


@pytest.mark.parametrize(("code", "rule_set", "days", "deemed"), [
    ("110105", "beijing", 2, False),
    ("350102", "fujian", 5, True),
    ("441900", "dongguan", 2, False),
    ("330106", "national", 5, False),
    (None, "national", 5, False),
])
def test_area_code_selects_the_regional_review_rule(code: str | None, rule_set: str, days: int, deemed: bool) -> None:
    rules = load_regions().for_area_code(code)
    assert (rules.id, rules.review_working_days, rules.deemed_approval) == (rule_set, days, deemed)


def test_regional_sets_inherit_what_they_do_not_restate() -> None:
    assert load_regions().get("fujian").topup_ratio == Decimal("0.30")


def test_a_rule_without_source_is_refused() -> None:
    text = """
fund_categories: [{id: elevator, zh: 电梯, en: Elevator}]
rule_sets:
  - id: national
    region: x
    emergency_list: {items: [elevator]}
"""
    with pytest.raises(ValueError, match="no source"):
        parse_regions(text)
