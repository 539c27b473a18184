"""Assignment: offers go to the best eligible crew member, expire to the next one, and one accept wins a race."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest

from dispatch.alarm_sync import handle_transition
from dispatch.crew import CrewMember, set_on_shift, upsert_crew_member
from dispatch.workorders import AcceptConflict, AcceptRefused, accept, events, get_work_order, reassign_expired
from ingest.database import connect

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
