"""Crew members: registration is checked, shifts decide who is on duty, and offers follow unit, skill, shift,
site and load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch.alarm_sync import handle_transition
from dispatch.crew import (
    CrewChanges,
    CrewMember,
    candidates,
    get_crew_member,
    new_member,
    page_crew,
    register_crew_member,
    set_on_shift,
    update_crew_member,
)
from dispatch.errors import CrewExists, CrewNotFound, InvalidCrew, UnknownPlace
from dispatch.shifts import in_schedule, parse_shifts
from dispatch.units import Unit, upsert_unit
from ingest.registry import Site, upsert_site

from .conftest import DEVICES, SITE, T0, Alarm, alarm_transition

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# T0 is Wednesday 2026-11-25 10:00 in Shanghai (02:00 UTC).


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given as Shanghai wall-clock time on 2026-11-<day>."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_day_shift_covers_its_hours_on_its_days_only() -> None:
    shifts = parse_shifts([{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}])
    assert in_schedule(shifts, "Asia/Shanghai", shanghai(25, 8))
    assert not in_schedule(shifts, "Asia/Shanghai", shanghai(25, 20))
    assert not in_schedule(shifts, "Asia/Shanghai", shanghai(28, 10))  # a Saturday


def test_a_night_shift_runs_past_midnight_into_the_next_day() -> None:
    shifts = parse_shifts([{"days": ["fri"], "start": "22:00", "end": "06:00"}])
    assert in_schedule(shifts, "Asia/Shanghai", shanghai(27, 23))
    assert in_schedule(shifts, "Asia/Shanghai", shanghai(28, 5, 59))
    assert not in_schedule(shifts, "Asia/Shanghai", shanghai(28, 6))
    assert not in_schedule(shifts, "Asia/Shanghai", shanghai(27, 5))  # Friday morning belongs to Thursday


def test_shifts_are_read_in_the_members_time_zone() -> None:
    shifts = parse_shifts([{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}])
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai, 19:00 in Tokyo, 10:00 in London
    assert in_schedule(shifts, "Asia/Shanghai", at)
    assert in_schedule(shifts, "Europe/London", at)
    assert not in_schedule(shifts, "America/New_York", at)  # 05:00 there


@pytest.mark.parametrize("bad", [
    {"days": ["someday"], "start": "08:00", "end": "20:00"},
    {"days": [], "start": "08:00", "end": "20:00"},
    {"days": ["mon"], "start": "8h", "end": "20:00"},
    {"days": ["mon"], "start": "08:00"},
])
def test_a_malformed_shift_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match="shift 1"):
        parse_shifts([bad])


def member(crew_id: str = "pe-9", **overrides: object) -> CrewMember:
    fields = {"id": crew_id, "unit_id": "property-eng", "name": "夜班 乙", "phone": "13800000009",
              "skills": ["patrol"], "shifts": [{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}]}
    return new_member(**{**fields, **overrides})


def test_a_registered_member_is_read_back_with_schedule_and_estates(estate: psycopg.Connection) -> None:
    register_crew_member(estate, member(site_ids=[SITE], timezone="Asia/Shanghai"), actor="user:op")
    found = get_crew_member(estate, "pe-9")
    assert (found.site_ids, found.timezone, found.active, found.on_shift) == ([SITE], "Asia/Shanghai", True, False)
    assert [s.to_json() for s in found.shifts] == [{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}]
    assert found.available(T0) and not found.available(T0 + timedelta(hours=12))


def test_a_member_clocked_in_by_hand_is_available_outside_the_schedule(estate: psycopg.Connection) -> None:
    register_crew_member(estate, member(), actor="user:op")
    set_on_shift(estate, "pe-9", True, actor="user:op")
    assert get_crew_member(estate, "pe-9").available(T0 + timedelta(hours=12))


def test_registering_an_existing_id_is_a_conflict(estate: psycopg.Connection) -> None:
    register_crew_member(estate, member(), actor="user:op")
    with pytest.raises(CrewExists):
        register_crew_member(estate, member(), actor="user:op")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"unit_id": "nobody"}, "unit 'nobody' does not exist"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"skills": []}, "at least one skill"),
    ({"id": "has space"}, "crew id"),
])
def test_a_member_breaking_a_rule_is_refused(estate: psycopg.Connection, overrides: dict, message: str) -> None:
    with pytest.raises(InvalidCrew, match=message):
        register_crew_member(estate, member(**overrides), actor="user:op")
    assert get_crew_member(estate, overrides.get("id", "pe-9")) is None


def test_a_shift_that_does_not_parse_is_refused_as_invalid_crew() -> None:
    with pytest.raises(InvalidCrew, match="shift 1"):
        member(shifts=[{"days": ["mon"], "start": "25:00", "end": "06:00"}])


def test_an_estate_that_does_not_exist_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(UnknownPlace):
        register_crew_member(estate, member(site_ids=["NOWHERE"]), actor="user:op")


def test_an_estate_the_unit_does_not_serve_is_refused(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="别的小区"))
    upsert_unit(estate, Unit(id="s1-security", kind="property", name="保安队", site_ids=[SITE]))
    with pytest.raises(InvalidCrew, match="does not serve site 'S2'"):
        register_crew_member(estate, member(unit_id="s1-security", site_ids=["S2"]), actor="user:op")


def test_an_update_changes_only_what_it_names(estate: psycopg.Connection) -> None:
    register_crew_member(estate, member(), actor="user:op")
    updated = update_crew_member(estate, "pe-9", CrewChanges(active=False, phone="13900000000"), actor="user:op")
    assert (updated.active, updated.phone, updated.skills, updated.name) == (False, "13900000000", ["patrol"],
                                                                           "夜班 乙")
    assert get_crew_member(estate, "pe-9") == updated


def test_updating_an_unknown_member_is_not_found(estate: psycopg.Connection) -> None:
    with pytest.raises(CrewNotFound):
        update_crew_member(estate, "ghost", CrewChanges(active=False), actor="user:op")


def test_crew_pages_by_the_estates_they_cover_with_the_true_total(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="别的小区"))
    for n in range(3):
        register_crew_member(estate, member(f"s2-{n}", site_ids=["S2"]), actor="user:op")
    page, total = page_crew(estate, sites=["S2"], unit_id="property-eng", limit=2, offset=0)
    assert total == 4  # three of S2 and pe-1, who covers every site of an all-site unit
    assert [m.id for m in page] == ["pe-1", "s2-0"]
    assert page_crew(estate, sites=[SITE], unit_id="property-eng", limit=10, offset=0)[1] == 1


def test_candidates_are_ranked_by_load_among_those_on_shift_at_the_site(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="别的小区"))
    register_crew_member(estate, member("pe-2", skills=["drainage"], site_ids=[SITE]), actor="user:op")
    register_crew_member(estate, member("pe-3", skills=["drainage"], site_ids=["S2"]), actor="user:op")
    register_crew_member(estate, member("pe-4", skills=["drainage"], active=False), actor="user:op")
    register_crew_member(estate, member("pe-5", skills=["drainage"],
                                        shifts=[{"days": ["sat"], "start": "08:00", "end": "20:00"}]),
                         actor="user:op")
    register_crew_member(estate, member("pe-6", skills=["water_supply"]), actor="user:op")
    ranked = candidates(estate, unit_id="property-eng", skill="drainage", site_id=SITE, at=T0)
    assert [c.member.id for c in ranked] == ["pe-1", "pe-2"]


def test_the_offer_skips_members_who_do_not_cover_the_estate(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="别的小区"))
    update_crew_member(estate, "em-1", CrewChanges(site_ids=["S2"]), actor="user:op")
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    assert handle_transition(estate, alarm_transition(1, alarm)).offered_to == "em-2"


def test_the_offer_skips_members_outside_their_scheduled_shift(estate: psycopg.Connection) -> None:
    set_on_shift(estate, "em-1", False, actor="user:op")
    update_crew_member(estate, "em-1", CrewChanges(shifts=[{"days": WEEKDAYS, "start": "08:00", "end": "20:00"}]),
                       actor="user:op")
    update_crew_member(estate, "em-2", CrewChanges(on_shift=False, shifts=[
        {"days": WEEKDAYS, "start": "20:00", "end": "08:00"}]), actor="user:op")
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    assert handle_transition(estate, alarm_transition(1, alarm)).offered_to == "em-1"
    night = alarm_transition(2, Alarm(id=2, category="elevator_entrapment", severity="P0", building_id="B9"),
                             at=T0 + timedelta(hours=12))
    assert handle_transition(estate, night).offered_to == "em-2"
