"""The thresholds of owners' votes (Civil Code art. 278), read from ``data/vote_rules.yaml`` with their sources.

A vote keeps the rule it was opened under (``MatterRule.to_json``), so a later change of the data file never
re-decides an old vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Comparison = Literal["at_least", "more_than"]


@dataclass(frozen=True)
class Threshold:
    """A share of area and a share of heads that must both be reached (``at_least``) or passed (``more_than``)."""

    area: Fraction
    heads: Fraction
    comparison: Comparison

    def met(self, area_share: Fraction, head_share: Fraction) -> bool:
        """Whether both shares clear this threshold, exactly."""
        if self.comparison == "at_least":
            return area_share >= self.area and head_share >= self.heads
        return area_share > self.area and head_share > self.heads

    def to_json(self) -> dict[str, str]:
        """Fractions as ``"2/3"`` strings."""
        return {"area": str(self.area), "heads": str(self.heads), "comparison": self.comparison}


@dataclass(frozen=True)
class MatterRule:
    """What a vote on one matter needs: the quorum, the approval threshold, and where both come from."""

    matter: str
    zh: str
    en: str
    area_basis: str
    quorum: Threshold
    approval: Threshold
    quorum_source: str
    approval_source: str

    def to_json(self) -> dict[str, Any]:
        """The rule as stored with a vote and shown with its result."""
        return {"matter": self.matter, "zh": self.zh, "en": self.en, "area_basis": self.area_basis,
                "quorum": self.quorum.to_json(), "approval": self.approval.to_json(),
                "quorum_source": self.quorum_source, "approval_source": self.approval_source}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatterRule:
        """The inverse of ``to_json``."""
        return cls(matter=data["matter"], zh=data["zh"], en=data["en"], area_basis=data["area_basis"],
                   quorum=_threshold(data["quorum"]), approval=_threshold(data["approval"]),
                   quorum_source=data["quorum_source"], approval_source=data["approval_source"])


def _threshold(raw: dict[str, Any]) -> Threshold:
    if raw["comparison"] not in ("at_least", "more_than"):
        raise ValueError(f"unknown comparison {raw['comparison']!r}")
    return Threshold(Fraction(str(raw["area"])), Fraction(str(raw["heads"])), raw["comparison"])


def parse_vote_rules(text: str) -> dict[str, MatterRule]:
    """Every matter's rule from the YAML text; each number must come with its source."""
    doc = yaml.safe_load(text)
    for key in ("area", "quorum"):
        if not doc[key].get("source"):
            raise ValueError(f"vote rules: {key} has no source")
    if doc["area"]["value"] != "exclusive":
        raise ValueError("vote rules: only exclusive area is supported (the electorate stores it)")
    quorum = _threshold(doc["quorum"])
    rules = {}
    for raw in doc["matters"]:
        if not raw.get("source"):
            raise ValueError(f"vote rules: matter {raw['id']} has no source")
        rules[raw["id"]] = MatterRule(matter=raw["id"], zh=raw["zh"], en=raw["en"], area_basis=doc["area"]["value"],
                                      quorum=quorum, approval=_threshold(raw["approval"]),
                                      quorum_source=doc["quorum"]["source"], approval_source=raw["source"])
    return rules


@cache
def load_vote_rules() -> dict[str, MatterRule]:
    """The shipped rules, by matter id (read once)."""
    text = (resources.files("dispatch.fund") / "data" / "vote_rules.yaml").read_text(encoding="utf-8")
    return parse_vote_rules(text)
