"""The work-order lifecycle: allowed transitions, the event log, costs, photos, reports and change notices."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from dispatch.workorders import (
    IllegalTransition,
    InvalidOrder,
    PhotoRejected,
    UnknownPlace,
    WorkOrderNotFound,
    attach_photo,
    events,
    get_work_order,
    list_work_orders,
    open_from_report,
    transition,
)
from ingest.database import connect
from ingest.registry import Building, Site, upsert_building, upsert_site

from .conftest import SITE, T0, step_to

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def report(conn: psycopg.Connection, *, address: str = "1号楼2单元301", category: str = "water_outage",
           origin: str = "owner_report", at=T0):
    return open_from_report(conn, site_id=SITE, origin=origin, category=category, description="no water upstairs",
                            address=address, reporter_contact="13900000000", actor="user:desk", now=at)


def walk(conn: psycopg.Connection, order_id: int, states: list[str], *, start=T0, step=timedelta(minutes=1)):
    order = None
    for n, state in enumerate(states, start=1):
        order = step_to(conn, order_id, state, now=start + n * step)
    return order


def test_the_full_lifecycle_stamps_times_and_maps_to_government_codes(estate: psycopg.Connection) -> None:
    order = report(estate)
    codes = []
    for n, state in enumerate(["ACKED", "DISPATCHED", "EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD",
                               "IN_PROGRESS", "RESOLVED", "VERIFIED", "CLOSED"], start=1):
        codes.append(step_to(estate, order.id, state, now=T0 + timedelta(minutes=n)).gov_code)
    done = get_work_order(estate, order.id)
    assert codes == ["02", "02", "02", "04", "04", "04", "04", "00", "00", "00"]
    assert (done.acked_at, done.on_site_at, done.resolved_at, done.closed_at) == (
        T0 + timedelta(minutes=1), T0 + timedelta(minutes=4), T0 + timedelta(minutes=8), T0 + timedelta(minutes=10))


def test_every_transition_is_an_event_with_its_actor(estate: psycopg.Connection) -> None:
    order = report(estate)
    transition(estate, order.id, "ACKED", actor="user:duty", note="on it", now=T0 + timedelta(seconds=30))
    history = [(e.kind, e.from_state, e.to_state, e.actor, e.note) for e in events(estate, order.id)]
    assert history[0][:4] == ("transition", None, "NEW", "user:desk")
    assert history[-1] == ("transition", "NEW", "ACKED", "user:duty", "on it")


ILLEGAL = [
    ([], "RESOLVED"),
    (["ACKED"], "ON_SITE"),
    (["ACKED", "DISPATCHED", "ON_SITE", "IN_PROGRESS"], "FALSE_ALARM"),
    (["ACKED", "DISPATCHED", "ON_SITE", "RESOLVED", "CLOSED"], "IN_PROGRESS"),
    (["CANCELLED"], "ACKED"),
]


def test_illegal_transitions_are_refused_and_change_nothing(estate: psycopg.Connection) -> None:
    for n, (path, illegal) in enumerate(ILLEGAL):
        order = report(estate, address=f"{n}号楼")
        before = walk(estate, order.id, path) or order
        history = events(estate, order.id)
        with pytest.raises(IllegalTransition, match=f"{before.state} → {illegal} is not allowed"):
            transition(estate, order.id, illegal, actor="user:op", now=T0 + timedelta(hours=1))
        assert get_work_order(estate, order.id).state == before.state
        assert events(estate, order.id) == history


def test_an_unknown_order_is_reported(estate: psycopg.Connection) -> None:
    with pytest.raises(WorkOrderNotFound):
        transition(estate, 404, "ACKED", actor="user:op")


def test_a_false_alarm_reports_code_05_and_stops_its_timers(estate: psycopg.Connection) -> None:
    order = report(estate)
    closed = transition(estate, order.id, "FALSE_ALARM", actor="user:op", note="sensor test", now=T0)
    assert closed.gov_code == "05"
    pending = estate.execute(
        "SELECT count(*) FROM sla_steps WHERE order_id = %s AND cancelled_at IS NULL", (order.id,)).fetchone()
    assert pending == (0,)


def test_labour_and_parts_add_up_to_the_order_cost(estate: psycopg.Connection) -> None:
    order = report(estate)
    walk(estate, order.id, ["ACKED", "DISPATCHED", "ON_SITE", "IN_PROGRESS"])
    transition(estate, order.id, "RESOLVED", actor="crew:pe-1", cost=Decimal("150.00"),
               parts=[{"name": "浮球阀", "quantity": "2", "unit_cost": "35.50"}], now=T0 + timedelta(hours=1))
    assert get_work_order(estate, order.id).cost_total == Decimal("221.00")
    resolved = events(estate, order.id)[-1]
    assert (resolved.labour_cost, resolved.parts_cost) == (Decimal("150.00"), Decimal("71.00"))


def test_a_cost_in_fractions_of_a_fen_is_refused(estate: psycopg.Connection) -> None:
    order = report(estate)
    with pytest.raises(InvalidOrder, match="whole fen"):
        transition(estate, order.id, "ACKED", actor="user:op", cost=Decimal("1.005"))


def test_the_event_log_is_append_only(estate: psycopg.Connection) -> None:
    order = report(estate)
    before = events(estate, order.id)
    estate.execute("UPDATE work_order_events SET actor = 'someone else' WHERE order_id = %s", (order.id,))
    estate.execute("DELETE FROM work_order_events WHERE order_id = %s", (order.id,))
    assert events(estate, order.id) == before


def test_jpeg_png_and_webp_photos_are_stored_under_the_uploads_dir(estate: psycopg.Connection,
                                                                   tmp_path: Path) -> None:
    order = report(estate)
    for data, content_type, suffix in [(JPEG, "image/jpeg", ".jpg"), (PNG, "image/png", ".png"),
                                       (WEBP, "image/webp", ".webp")]:
        photo = attach_photo(estate, order.id, data=data, content_type=content_type, actor="crew:pe-1",
                             uploads_dir=tmp_path)
        assert (tmp_path / photo.path).read_bytes() == data
        assert photo.path.endswith(suffix) and photo.size == len(data)
        assert events(estate, order.id)[-1].photo_ids == [photo.id]


def test_a_photo_whose_bytes_contradict_its_type_is_refused(estate: psycopg.Connection, tmp_path: Path) -> None:
    order = report(estate)
    with pytest.raises(PhotoRejected, match="image/png but was sent as image/jpeg"):
        attach_photo(estate, order.id, data=PNG, content_type="image/jpeg", actor="crew:pe-1", uploads_dir=tmp_path)
    with pytest.raises(PhotoRejected, match="JPEG, PNG or WebP"):
        attach_photo(estate, order.id, data=b"<svg/>", content_type="image/jpeg", actor="crew:pe-1",
                     uploads_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_photo_is_refused(estate: psycopg.Connection, tmp_path: Path) -> None:
    order = report(estate)
    with pytest.raises(PhotoRejected, match="limit is 100"):
        attach_photo(estate, order.id, data=JPEG + b"\x00" * 100, content_type="image/jpeg", actor="crew:pe-1",
                     uploads_dir=tmp_path, max_bytes=100)


def test_a_report_for_a_site_that_does_not_exist_is_refused_before_anything_is_written(
    estate: psycopg.Connection,
) -> None:
    with pytest.raises(UnknownPlace, match="site 'S404' does not exist"):
        open_from_report(estate, site_id="S404", origin="owner_report", category="water_outage", description="-",
                         address="1号楼", reporter_contact="139", actor="user:desk", now=T0)
    assert list_work_orders(estate) == []


def test_a_report_naming_a_building_of_another_estate_is_refused(estate: psycopg.Connection) -> None:
    upsert_site(estate, Site(id="S2", name="另一个小区"))
    upsert_building(estate, Building(id="S2-B01", site_id="S2", name="1号楼"))
    with pytest.raises(UnknownPlace, match="building 'S2-B01' is not a building of site 'S1'"):
        open_from_report(estate, site_id=SITE, building_id="S2-B01", origin="owner_report", category="water_outage",
                         description="-", address="1号楼", reporter_contact="139", actor="user:desk", now=T0)
    assert list_work_orders(estate) == []


def test_a_report_of_a_category_that_does_not_exist_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(InvalidOrder, match="unknown category 'ghosts'"):
        report(estate, category="ghosts")


def test_a_hotline_ticket_keeps_its_origin_and_reporter(estate: psycopg.Connection) -> None:
    order = report(estate, origin="hotline_12345")
    assert (order.origin, order.reporter_contact, order.unit_id) == ("hotline_12345", "13900000000", "property-eng")


def test_a_second_report_at_the_same_address_is_a_repeat(estate: psycopg.Connection) -> None:
    first = report(estate, address="1号楼 2单元 301")
    second = report(estate, address="1号楼2单元301", at=T0 + timedelta(days=3))
    elsewhere = report(estate, address="3号楼101", at=T0 + timedelta(days=3))
    assert (first.repeat_of, second.repeat_of, elsewhere.repeat_of) == (None, first.id, None)


def test_a_report_outside_the_repeat_window_is_not_a_repeat(estate: psycopg.Connection) -> None:
    report(estate)
    assert report(estate, at=T0 + timedelta(days=31)).repeat_of is None


def test_every_change_is_announced_on_the_work_order_channel(estate: psycopg.Connection, db_url: str) -> None:
    with connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN pw_work_orders")
        order = report(estate)
        transition(estate, order.id, "ACKED", actor="user:op", now=T0)
        payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    notices = [json.loads(p) for p in payloads]
    assert (order.id, "ACKED") in [(n["id"], n["state"]) for n in notices]
