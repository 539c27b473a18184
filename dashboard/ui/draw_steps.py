"""A fund draw's steps as its page lists them: when, what, who, and what was said, in the reader's language. A
person's comment shows as written; the facts the system records (kind and estimate of an application, the missed
review deadline, the actual cost) are worded through the string table (dashboard/strings/draws.py). Steps recorded
before the facts were (the table is append-only) carry them in an English comment, read here by its pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from dashboard.ui.alarm_detail import local_time
from dispatch.fund.draws import DrawEvent

# The English comments dispatch.fund wrote on its own steps before it recorded facts, per step, and the fact each
# group of the pattern holds.
LEGACY_COMMENTS: dict[str, list[tuple[re.Pattern[str], tuple[str, ...], dict[str, Any]]]] = {
    "opened": [
        (re.compile(r"^(emergency|authorised); estimate (-?[\d.]+)$"), ("kind", "estimate"), {}),
        (re.compile(r"^authorised by vote (\d+); estimate (-?[\d.]+)$"), ("vote_id", "estimate"), {"kind": "voted"}),
        (re.compile(r"^elevator insurance (.*); premium (-?[\d.]+)$"), ("policy_number", "estimate"),
         {"kind": "insurance"}),
    ],
    "deemed_approved": [(re.compile(r"^no decision by (\S+); deemed approved \((.*)\)$"),
                         ("review_due_at", "rule_set"), {})],
    "escalated": [(re.compile(r"^no decision by (\S+); escalated to the housing authority$"), ("review_due_at",), {})],
    "completed": [(re.compile(r"^actual (-?[\d.]+) vs estimate (-?[\d.]+)(; variance flagged)?$"),
                   ("actual_cost", "estimate", "variance_flagged"), {})],
}


def facts_of(event: DrawEvent) -> tuple[dict[str, Any], str | None]:
    """The step's facts and the comment a person wrote: a step recorded before facts were has them in its
    English comment, which is then no person's."""
    if event.data or not event.comment:
        return event.data, event.comment
    for pattern, names, fixed in LEGACY_COMMENTS.get(event.event, []):
        found = pattern.match(event.comment)
        if found:
            return {**fixed, **dict(zip(names, found.groups(), strict=True))}, None
    return event.data, event.comment


@dataclass(frozen=True)
class DrawStep:
    """One step: ``at`` in the estate's zone with its marker, the person's ``comment`` and the system's ``data``."""

    at: str
    event: str
    actor: str
    role: str | None
    comment: str | None
    data: dict[str, Any]
    zone: tzinfo

    def note(self, t: Callable[[str], str]) -> str:
        """What the step says, with ``t`` the page's translator: the system's facts worded, then the comment."""
        said = [self._facts(t), self.comment or ""]
        return " · ".join(part for part in said if part)

    def _facts(self, t: Callable[[str], str]) -> str:
        d = self.data
        if not d:
            return ""
        if self.event == "opened":
            kind = t(f"own_kind_{d.get('kind')}")
            key = {"voted": "draw_step_opened_voted", "insurance": "draw_step_opened_insurance"}.get(
                str(d.get("kind")), "draw_step_opened")
            return t(key).format(kind=kind, estimate=d.get("estimate", ""), vote=d.get("vote_id", ""),
                                 policy=d.get("policy_number", ""))
        if self.event in ("deemed_approved", "escalated"):
            due = local_time(datetime.fromisoformat(d["review_due_at"]), self.zone)
            return t(f"draw_step_{self.event}").format(due=due)
        if self.event == "completed":
            text = t("draw_step_completed").format(actual=d.get("actual_cost", ""), estimate=d.get("estimate", ""))
            return f"{text} · {t('draw_step_variance')}" if d.get("variance_flagged") else text
        return ""


def draw_steps(events: list[DrawEvent], zone: tzinfo) -> list[DrawStep]:
    """The draw's recorded steps in order, times in ``zone``."""
    steps = []
    for e in events:
        data, comment = facts_of(e)
        steps.append(DrawStep(local_time(e.at, zone), e.event, e.actor, e.role, comment, data, zone))
    return steps
