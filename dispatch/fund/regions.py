"""Regional fund rules loaded from ``data/regions.yaml``: emergency lists, review limits, bases and thresholds.

The rules are data because they differ by city and province (DOMAIN.md §4.4); code only interprets them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

AreaBasis = Literal["building", "exclusive"]
FALLBACK = "national"


class FundCategory(BaseModel):
    """A kind of repair the fund may pay for; work orders carry one of these ids as ``fund_category``."""

    model_config = ConfigDict(frozen=True)
    id: str
    zh: str
    en: str


class RuleSet(BaseModel):
    """The fund rules of one region, each with the source it comes from."""

    model_config = ConfigDict(frozen=True)
    id: str
    region: str
    area_codes: tuple[str, ...]
    emergency_items: frozenset[str]
    review_working_days: int
    deemed_approval: bool
    apportionment_basis: AreaBasis
    topup_ratio: Decimal
    variance_ratio: Decimal
    sources: dict[str, str]

    def is_emergency(self, fund_category: str | None) -> bool:
        """Whether a repair of this category may skip the owners' vote here."""
        return fund_category is not None and fund_category in self.emergency_items


class Regions(BaseModel):
    """Every rule set and the category vocabulary they draw on."""

    model_config = ConfigDict(frozen=True)
    categories: tuple[FundCategory, ...]
    rule_sets: dict[str, RuleSet]

    def get(self, rule_set_id: str) -> RuleSet:
        """The named rule set; ``KeyError`` if unknown."""
        return self.rule_sets[rule_set_id]

    def for_area_code(self, code: str | None) -> RuleSet:
        """The rule set whose area-code prefix matches ``code`` most specifically, else the national one."""
        best, best_len = self.rule_sets[FALLBACK], 0
        for rules in self.rule_sets.values():
            for prefix in rules.area_codes:
                if code and code.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = rules, len(prefix)
        return best


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "region": raw["region"],
        "area_codes": tuple(raw.get("area_codes", ())),
        "emergency_items": frozenset(raw["emergency_list"]["items"]),
        "review_working_days": raw["review"]["working_days"],
        "deemed_approval": raw["review"]["deemed_approval"],
        "apportionment_basis": raw["apportionment_basis"]["value"],
        "topup_ratio": Decimal(str(raw["topup_threshold"]["ratio_of_first_deposit"])),
        "variance_ratio": Decimal(str(raw["variance_flag"]["ratio"])),
        "sources": {
            key: f"{raw[key]['source']} [{raw[key].get('confidence', '?')}; region: {raw['region']}]"
            for key in ("emergency_list", "review", "apportionment_basis", "topup_threshold", "variance_flag")
        },
    }


def parse_regions(text: str) -> Regions:
    """Parse the YAML text; regional sets inherit every rule they do not restate from ``national``."""
    doc = yaml.safe_load(text)
    categories = tuple(FundCategory(**c) for c in doc["fund_categories"])
    known = {c.id for c in categories}
    raw_sets = {r["id"]: r for r in doc["rule_sets"]}
    base = raw_sets[FALLBACK]
    rule_sets: dict[str, RuleSet] = {}
    for rule_id, raw in raw_sets.items():
        for key, value in raw.items():
            if isinstance(value, dict) and "source" not in value:
                raise ValueError(f"rule set {rule_id}: {key} has no source")
        rules = RuleSet(**_flatten({**base, **raw}))
        unknown = rules.emergency_items - known
        if unknown:
            raise ValueError(f"rule set {rule_id}: unknown fund categories {sorted(unknown)}")
        rule_sets[rule_id] = rules
    return Regions(categories=categories, rule_sets=rule_sets)


@cache
def load_regions() -> Regions:
    """The shipped rule sets (read once; the models are frozen)."""
    text = (resources.files("dispatch.fund") / "data" / "regions.yaml").read_text(encoding="utf-8")
    return parse_regions(text)
