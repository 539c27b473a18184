"""KPIs computed exactly on a known history (definitions in dispatch.kpi and docs/dispatch.md)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.alarm_sync import handle_transition
from dispatch.kpi import Rate, compute_kpis
from dispatch.workorders import accept, open_from_report

from .conftest import DEVICES, SITE, T0, Alarm, alarm_transition, step_to

M = timedelta(minutes=1)
H = timedelta(hours=1)


def at(conn: psycopg.Connection, order_id: int, moves: list[tuple[str, timedelta]], start) -> None:
    for state, offset in moves:
        step_to(conn, order_id, state, now=start + offset)


def water_report(conn: psycopg.Connection, when):
    return open_from_report(conn, site_id=SITE, origin="owner_report", category="water_outage",
                            description="no water", address="2号楼101", reporter_contact="139", actor="user:desk",
                            now=when)


@pytest.fixture
def history(estate: psycopg.Connection) -> psycopg.Connection:
    """Five orders in the day after T0 (plus one cancelled and one the day before):

    A entrapment: accepted after 4 min, on site at 20 min, resolved at 60 min (ack deadline of 1 min missed).
    B entrapment: accepted after 30 s, on site at 40 min (late), resolved at 90 min.
    C water outage report: acked exactly at its 10-min deadline, every deadline met, resolved at 3 h.
    D fire alarm: acked after 1 min, then a false alarm.
    E water outage report at C's address: a repeat, never acknowledged.
    """
    a = handle_transition(estate, alarm_transition(1, Alarm(id=1, category="elevator_entrapment", severity="P0",
                                                            device_id=DEVICES["elevator"]), at=T0))
    accept(estate, a.id, "em-1", now=T0 + 4 * M)
    at(estate, a.id, [("EN_ROUTE", 5 * M), ("ON_SITE", 20 * M), ("RESOLVED", 60 * M)], T0)
    b_start = T0 + H
    b = handle_transition(estate, alarm_transition(2, Alarm(id=2, category="elevator_entrapment", severity="P0",
                                                            building_id="B2"), at=b_start))
    accept(estate, b.id, "em-2", now=b_start + timedelta(seconds=30))
    at(estate, b.id, [("ON_SITE", 40 * M), ("RESOLVED", 90 * M)], b_start)
    c_start = T0 + 2 * H
    c = water_report(estate, c_start)
    at(estate, c.id, [("ACKED", 10 * M), ("DISPATCHED", 20 * M), ("ON_SITE", 50 * M), ("RESOLVED", 3 * H)], c_start)
    d_start = T0 + 3 * H
    d = handle_transition(estate, alarm_transition(3, Alarm(id=3, category="fire_alarm", severity="P0",
                                                            device_id=DEVICES["fire_system"]), at=d_start))
    at(estate, d.id, [("ACKED", M), ("FALSE_ALARM", 2 * M)], d_start)
    water_report(estate, T0 + 4 * H)
    cancelled = water_report(estate, T0 + 5 * H)
    at(estate, cancelled.id, [("CANCELLED", M)], T0 + 5 * H)
    water_report(estate, T0 - timedelta(days=1))
    return estate


def test_kpis_of_the_site(history: psycopg.Connection) -> None:
    kpis = compute_kpis(history, start=T0, end=T0 + timedelta(days=1), site_id=SITE)
    assert kpis.orders == 5
    assert kpis.mtta == timedelta(seconds=(240 + 30 + 600 + 60) / 4)
    assert kpis.mttr == timedelta(minutes=(60 + 90 + 180) / 3)
    assert kpis.sla_compliance == Rate(1, 4)
    assert kpis.response_rate == Rate(2, 3)
    assert kpis.arrival_rate == Rate(1, 2)
    assert kpis.repeat_fault_rate == Rate(1, 4)
    assert kpis.false_alarm_rate == Rate(1, 5)


def test_kpis_of_one_unit(history: psycopg.Connection) -> None:
    kpis = compute_kpis(history, start=T0, end=T0 + timedelta(days=1), unit_id="elevator-maint")
    assert (kpis.orders, kpis.mtta, kpis.arrival_rate) == (2, timedelta(seconds=135), Rate(1, 2))


def test_kpis_of_a_property_company_cover_its_sites(history: psycopg.Connection) -> None:
    history.execute("UPDATE dispatch_units SET site_ids = '{S1}' WHERE id = 'property-eng'")
    mine = compute_kpis(history, start=T0, end=T0 + timedelta(days=1), company_id="property-eng")
    history.execute("UPDATE dispatch_units SET site_ids = '{S9}' WHERE id = 'property-eng'")
    other = compute_kpis(history, start=T0, end=T0 + timedelta(days=1), company_id="property-eng")
    assert (mine.orders, other.orders) == (5, 0)


def test_an_empty_period_measures_nothing(history: psycopg.Connection) -> None:
    kpis = compute_kpis(history, start=T0 + timedelta(days=5), end=T0 + timedelta(days=6))
    assert (kpis.orders, kpis.mtta, kpis.response_rate.value) == (0, None, None)
