"""Assignment: offers go to the best eligible crew member, expire to the next one, and one accept wins a race."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest

from dispatch.alarm_sync import handle_transition
from dispatch.crew import CrewMember, set_on_shift, upsert_crew_member
from dispatch.workorders import (
    AcceptConflict,
    AcceptRefused,
    AssigneeRequired,
    AssignRefused,
    IllegalTransition,
    ReasonRequired,
    accept,
    assign,
    events,
    get_work_order,
    reassign_expired,
    transition,
)
from ingest.database import connect
from ingest.registry import Site, upsert_site

from .conftest import DEVICES, T0, Alarm, alarm_transition


def entrapment(conn: psycopg.Connection, alarm_id: int = 1, *, building: str | None = None):
    alarm = Alarm(id=alarm_id, category="elevator_entrapment", severity="P0",
                  device_id=None if building else DEVICES["elevator"], building_id=building or "S1-B01")
    return handle_transition(conn, alarm_transition(alarm_id, alarm))


def test_a_new_order_is_offered_to_an_on_shift_crew_member_of_the_unit(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    assert order.offered_to == "em-1"
    assert order.offer_expires_at == T0 + timedelta(minutes=5)


def test_the_offer_goes_to_the_member_with_the_least_open_work(estate: psycopg.Connection) -> None:
    first = entrapment(estate, 1, building="B1")
    accept(estate, first.id, "em-1", now=T0)
    second = entrapment(estate, 2, building="B2")
    assert second.offered_to == "em-2"


def test_off_shift_and_unskilled_members_get_no_offer(estate: psycopg.Connection) -> None:
    set_on_shift(estate, "em-1", False, actor="crew:em-1")
    upsert_crew_member(estate, CrewMember(id="em-0", unit_id="elevator-maint", name="Trainee", phone="",
                                          skills=["escalator"], on_shift=True))
    assert entrapment(estate).offered_to == "em-2"


def test_an_offer_not_accepted_in_time_moves_to_the_next_member(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    assert reassign_expired(estate, now=T0 + timedelta(minutes=4)) == 0
    assert reassign_expired(estate, now=T0 + timedelta(minutes=5)) == 1
    moved = get_work_order(estate, order.id)
    assert (moved.offered_to, moved.offer_expires_at) == ("em-2", T0 + timedelta(minutes=10))
    assert [e.kind for e in events(estate, order.id)][-2:] == ["offer_timeout", "offer"]


def test_when_nobody_is_left_the_unit_is_asked_to_assign_by_hand(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    reassign_expired(estate, now=T0 + timedelta(minutes=5))
    reassign_expired(estate, now=T0 + timedelta(minutes=10))
    assert get_work_order(estate, order.id).offered_to is None
    kinds = [r[0] for r in estate.execute("SELECT kind FROM dispatch_notifications ORDER BY id")]
    assert kinds == ["opened", "offer", "offer", "unassigned"]


def test_accepting_dispatches_the_order_to_the_member(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    taken = accept(estate, order.id, "em-1", now=T0 + timedelta(seconds=50))
    assert (taken.state, taken.assignee_id, taken.acked_at, taken.offered_to) == (
        "DISPATCHED", "em-1", T0 + timedelta(seconds=50), None)
    assert [(e.to_state, e.actor) for e in events(estate, order.id) if e.kind == "transition"][-2:] == [
        ("ACKED", "crew:em-1"), ("DISPATCHED", "crew:em-1")]


def test_members_of_other_units_cannot_accept(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    with pytest.raises(AcceptRefused, match="belongs to unit elevator-maint"):
        accept(estate, order.id, "fm-1")
    with pytest.raises(AcceptRefused, match="does not exist"):
        accept(estate, order.id, "ghost")


def test_an_off_shift_member_cannot_accept(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    set_on_shift(estate, "em-2", False, actor="user:dispatcher")
    with pytest.raises(AcceptRefused, match="not on shift"):
        accept(estate, order.id, "em-2")


def test_of_two_concurrent_accepts_exactly_one_wins(estate: psycopg.Connection, db_url: str) -> None:
    order = entrapment(estate)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def try_accept(crew_id: str) -> None:
        with connect(db_url, autocommit=True) as conn:
            barrier.wait()
            try:
                accept(conn, order.id, crew_id)
                outcomes[crew_id] = "won"
            except AcceptConflict:
                outcomes[crew_id] = "lost"

    threads = [threading.Thread(target=try_accept, args=(crew,)) for crew in ("em-1", "em-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(crew for crew, outcome in outcomes.items() if outcome == "won")
    assert get_work_order(estate, order.id).assignee_id == winner
    dispatched = [e for e in events(estate, order.id) if e.to_state == "DISPATCHED"]
    assert [e.actor for e in dispatched] == [f"crew:{winner}"]


def test_a_shift_change_records_who_made_it(estate: psycopg.Connection) -> None:
    set_on_shift(estate, "em-1", False, actor="user:dispatcher")
    assert estate.execute("SELECT on_shift, updated_by FROM dispatch_crew WHERE id = 'em-1'").fetchone() == (
        False, "user:dispatcher")


def test_assigning_a_new_order_by_hand_dispatches_it_and_withdraws_the_offer(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    assigned = assign(estate, order.id, "em-2", actor="user:duty", now=T0 + timedelta(minutes=1))
    assert (assigned.state, assigned.assignee_id, assigned.offered_to) == ("DISPATCHED", "em-2", None)
    assert assigned.acked_at == T0 + timedelta(minutes=1)
    outcomes = estate.execute("SELECT crew_id, outcome FROM work_order_offers WHERE order_id = %s",
                              (order.id,)).fetchall()
    assert outcomes == [("em-1", "superseded")]
    assert [e.kind for e in events(estate, order.id)][-3:] == ["assignment", "transition", "transition"]


def test_reassigning_needs_a_reason_and_keeps_the_state(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    accept(estate, order.id, "em-1", now=T0)
    transition(estate, order.id, "EN_ROUTE", actor="crew:em-1", now=T0)
    with pytest.raises(ReasonRequired):
        assign(estate, order.id, "em-2", actor="user:duty")
    moved = assign(estate, order.id, "em-2", actor="user:duty", reason="em-1 车辆故障", now=T0 + timedelta(minutes=9))
    assert (moved.state, moved.assignee_id) == ("EN_ROUTE", "em-2")
    last = events(estate, order.id)[-1]
    assert (last.kind, last.actor, last.note, last.data["from"], last.data["to"]) == (
        "assignment", "user:duty", "em-1 车辆故障", "em-1", "em-2")


@pytest.mark.parametrize(("crew_id", "message"), [
    ("fm-1", "belongs to unit elevator-maint"),
    ("em-0", "needs skill 'elevator'"),
    ("em-x", "no longer active"),
    ("ghost", "does not exist"),
])
def test_a_member_who_cannot_take_the_order_is_not_assigned(estate: psycopg.Connection, crew_id: str,
                                                            message: str) -> None:
    upsert_crew_member(estate, CrewMember(id="em-0", unit_id="elevator-maint", name="Trainee", phone="",
                                          skills=["escalator"], on_shift=True))
    upsert_crew_member(estate, CrewMember(id="em-x", unit_id="elevator-maint", name="Left", phone="",
                                          skills=["elevator"], on_shift=True, active=False))
    order = entrapment(estate)
    with pytest.raises(AssignRefused, match=message):
        assign(estate, order.id, crew_id, actor="user:duty")
    assert get_work_order(estate, order.id).assignee_id is None


def test_an_off_shift_member_may_be_called_in_and_it_is_recorded(estate: psycopg.Connection) -> None:
    set_on_shift(estate, "em-2", False, actor="user:duty")
    order = entrapment(estate)
    assign(estate, order.id, "em-2", actor="user:duty", now=T0)
    assert events(estate, order.id)[-3].data["off_shift"] is True


def test_dispatching_without_an_assignee_is_refused(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    transition(estate, order.id, "ACKED", actor="user:duty", now=T0)
    with pytest.raises(AssigneeRequired, match="assign a crew member"):
        transition(estate, order.id, "DISPATCHED", actor="user:duty", now=T0)
    assert get_work_order(estate, order.id).state == "ACKED"


def test_a_closed_order_cannot_be_assigned(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    transition(estate, order.id, "FALSE_ALARM", actor="user:duty", note="测试按钮", now=T0)
    with pytest.raises(IllegalTransition, match="only open orders"):
        assign(estate, order.id, "em-1", actor="user:duty")


def test_when_nobody_is_left_the_order_is_escalated_to_the_next_level(estate: psycopg.Connection) -> None:
    order = entrapment(estate)
    reassign_expired(estate, now=T0 + timedelta(minutes=5))
    reassign_expired(estate, now=T0 + timedelta(minutes=10))
    escalated = get_work_order(estate, order.id)
    assert escalated.escalation_level == 1
    last = events(estate, order.id)[-1]
    assert (last.kind, last.data["reason"], last.data["recipients"]) == ("escalation", "unassigned",
                                                                         ["elevator-maint"])


def test_an_order_nobody_can_take_at_opening_is_escalated_at_once(estate: psycopg.Connection) -> None:
    for crew_id in ("em-1", "em-2"):
        set_on_shift(estate, crew_id, False, actor="user:duty")
    order = entrapment(estate)
    assert (order.offered_to, order.escalation_level) == (None, 1)


def test_a_member_who_does_not_cover_the_estate_cannot_accept(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="别的小区"))
    order = entrapment(estate)
    upsert_crew_member(estate, CrewMember(id="em-2", unit_id="elevator-maint", name="Worker em-2", phone="",
                                          skills=["elevator"], on_shift=True, site_ids=["S2"]))
    with pytest.raises(AcceptRefused, match="does not cover site S1"):
        accept(estate, order.id, "em-2")
