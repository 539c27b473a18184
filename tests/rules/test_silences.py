"""Silences expire, can be listed with the alarms they matched, and can be ended early."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.alarms import list_alarms, transitions_since
from rules.errors import InvalidSilence, SilenceEnded, SilenceNotFound
from rules.silences import end_silence, get_silence, page_silences, silence

from .conftest import T0, at, event


def silence_lift(db, device_id: str, *, hours: float = 2, **extra) -> int:
    return silence(db, scope_type="device", scope_id=device_id, starts_at=at(0), ends_at=at(hours * 3600),
                   actor="maint-wang", reason="half-monthly maintenance", **extra)


def test_a_silence_longer_than_a_week_is_refused_naming_ends_at(db, estate):
    with pytest.raises(InvalidSilence, match="at most 168 h") as refused:
        silence_lift(db, estate["el1"], hours=24 * 8)
    assert refused.value.field == "ends_at"


def test_a_recurring_silence_without_until_is_refused_naming_the_recurrence(db, estate):
    with pytest.raises(InvalidSilence, match="needs UNTIL") as refused:
        silence_lift(db, estate["el1"], recurrence="FREQ=DAILY")
    assert refused.value.field == "recurrence"


def test_a_recurring_silence_may_run_for_a_year_at_most(db, estate):
    with pytest.raises(InvalidSilence, match="366 days") as refused:
        silence_lift(db, estate["el1"], recurrence="FREQ=DAILY;UNTIL=20280101T000000Z")
    assert refused.value.field == "recurrence"


def test_a_silence_over_an_unknown_device_is_refused_naming_the_scope(db, estate):
    with pytest.raises(InvalidSilence) as refused:
        silence_lift(db, "NO-SUCH-LIFT")
    assert refused.value.field == "scope_id"


def test_a_recurring_silence_expires_after_its_last_occurrence(db, estate):
    silence_id = silence_lift(db, estate["el1"], recurrence="FREQ=DAILY;UNTIL=20260310T080000Z")
    record = get_silence(db, silence_id, now=at(60))
    assert record.expires_at == T0.replace(day=10, hour=10)
    assert record.status == "active"


def test_the_list_shows_active_and_recent_silences_of_the_sites_asked_for(db, estate):
    active = silence_lift(db, estate["el1"])
    scheduled = silence(db, scope_type="building", scope_id=estate["b2"], starts_at=at(7200), ends_at=at(9000),
                        actor="pm", reason="drill")
    long_gone = silence(db, scope_type="site", scope_id=estate["site"], starts_at=at(-5 * 86400),
                        ends_at=at(-4 * 86400), actor="pm", reason="last week")
    listed, total = page_silences(db, sites=[estate["site"]], now=at(60), limit=10, offset=0)
    assert [(s.id, s.status) for s in listed] == [(scheduled, "scheduled"), (active, "active")]
    assert total == 2 and long_gone not in {s.id for s in listed}
    assert page_silences(db, sites=["ELSEWHERE"], now=at(60), limit=10, offset=0) == ([], 0)


def test_the_list_names_the_alarms_each_silence_matched(db, estate, make_engine):
    silence_id = silence_lift(db, estate["el1"])
    make_engine().process(event(estate["el1"], "out_of_service", 60), now=at(60))
    [listed], _ = page_silences(db, sites=None, now=at(120), limit=10, offset=0)
    [matched] = listed.matched
    assert (listed.id, matched.rule_id, matched.suppressed, listed.matched_total) == \
        (silence_id, "elevator.out_of_service", True, 1)


def test_an_ended_silence_mutes_nothing_from_then_on(db, estate, make_engine):
    silence_id = silence_lift(db, estate["el1"])
    ended = end_silence(db, silence_id, actor="op-li", reason="maintenance finished early", now=at(600))
    assert (ended.status, ended.ended_by, ended.end_reason) == ("ended", "op-li", "maintenance finished early")
    make_engine().process(event(estate["el1"], "out_of_service", 700), now=at(700))
    assert not list_alarms(db)[0].suppressed


def test_ending_a_silence_releases_the_alarms_it_still_mutes(db, estate, make_engine):
    silence_id = silence_lift(db, estate["el1"])
    engine = make_engine()
    engine.process(event(estate["el1"], "out_of_service", 60), now=at(60))
    end_silence(db, silence_id, actor="op-li", reason="crew left", now=at(600))
    engine.tick(at(601))
    assert not list_alarms(db)[0].suppressed
    assert f"silence {silence_id}" in transitions_since(db, 0)[-1].values["silence_ended"]


def test_a_silence_cannot_be_ended_twice(db, estate):
    silence_id = silence_lift(db, estate["el1"])
    end_silence(db, silence_id, actor="op", reason="done", now=at(60))
    with pytest.raises(SilenceEnded):
        end_silence(db, silence_id, actor="op", reason="again", now=at(120))


def test_an_expired_silence_cannot_be_ended(db, estate):
    silence_id = silence_lift(db, estate["el1"])
    with pytest.raises(SilenceEnded, match="expired"):
        end_silence(db, silence_id, actor="op", reason="late", now=at(3 * 3600))


def test_ending_an_unknown_silence_is_not_found(db, estate):
    with pytest.raises(SilenceNotFound):
        end_silence(db, 999_999, actor="op", reason="?", now=at(0))


def test_an_ended_silence_stays_listed_for_a_day(db, estate):
    silence_id = silence_lift(db, estate["el1"])
    end_silence(db, silence_id, actor="op", reason="done", now=at(60))
    assert [s.id for s in page_silences(db, sites=None, now=at(60) + timedelta(hours=23), limit=5, offset=0)[0]] \
        == [silence_id]
    assert page_silences(db, sites=None, now=at(60) + timedelta(hours=25), limit=5, offset=0)[1] == 0
