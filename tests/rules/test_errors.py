"""Every refusal from ``rules`` belongs to one family of ``rules.errors``, which decides its HTTP status."""

from __future__ import annotations

import pytest

from rules import errors
from rules.alarms import acknowledge, alarm_history, clear, list_alarms, page_alarms, silence
from rules.loader import parse_pack
from rules.silences import parse_recurrence

from .conftest import at, event


def test_an_unknown_alarm_is_not_found(db) -> None:
    with pytest.raises(errors.NotFound):
        alarm_history(db, 404)


def test_an_unknown_alarm_is_a_lookup_error_for_python_callers(db) -> None:
    with pytest.raises(LookupError):
        acknowledge(db, 404, actor="op", comment="x")


def test_a_transition_the_alarm_state_forbids_is_a_conflict(db, estate, make_engine) -> None:
    make_engine().process(event(estate["el1"], "trapped", 0), now=at(0))
    [alarm] = list_alarms(db)
    clear(db, alarm.id, actor="op", comment="freed")
    with pytest.raises(errors.Conflict):
        clear(db, alarm.id, actor="op", comment="again")


def test_a_broken_rule_pack_is_invalid() -> None:
    with pytest.raises(errors.Invalid):
        parse_pack("pack: x\nrules:\n  - id: a\n    kind: thresold\n")


def test_a_silence_ending_before_it_starts_is_invalid(db) -> None:
    with pytest.raises(errors.Invalid):
        silence(db, scope_type="site", scope_id="S", starts_at=at(60), ends_at=at(0), actor="op", reason="x")


def test_an_unsupported_recurrence_is_invalid() -> None:
    with pytest.raises(errors.Invalid):
        parse_recurrence("FREQ=HOURLY")


def test_an_unknown_alarm_state_in_a_filter_is_invalid(db) -> None:
    with pytest.raises(errors.Invalid):
        page_alarms(db, sites=None, states=["open"], limit=10, offset=0)
