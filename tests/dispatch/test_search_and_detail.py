"""Operators find orders by number, words and address, filter them, and read one with its place, costs and photos."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

from dispatch.alarm_sync import handle_transition
from dispatch.complaints import file_complaint
from dispatch.workorders import OrderFilter, attach_photo, order_detail, page_work_orders, transition

from .conftest import BUILDING, DEVICES, SITE, T0, Alarm, alarm_transition, step_to

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def complaint(conn: psycopg.Connection, category: str, description: str, address: str, minutes: int = 0):
    return file_complaint(conn, site_id=SITE, origin="owner_report", category=category, description=description,
                          address=address, reporter_contact="13900000000", building_id=BUILDING,
                          actor="user:desk", now=T0 + timedelta(minutes=minutes)).order


def search(conn: psycopg.Connection, **filters) -> tuple[list[int], int]:
    found, total = page_work_orders(conn, sites=[SITE], where=OrderFilter(**filters), limit=50, offset=0)
    return [o.id for o in found], total


def test_search_finds_the_number_the_description_and_the_address(estate: psycopg.Connection) -> None:
    noise = complaint(estate, "noise", "夜间广场舞音响", "3号楼 2单元", 0)
    parking = complaint(estate, "illegal_parking", "车辆堵住单元门", "5号楼", 1)
    assert search(estate, search=noise.number) == ([noise.id], 1)
    assert search(estate, search="广场舞") == ([noise.id], 1)
    assert search(estate, search="5号楼") == ([parking.id], 1)
    assert search(estate, search="３号楼２单元") == ([noise.id], 1)  # full-width, no space: the normalised address


def test_wildcards_in_a_search_are_taken_literally(estate: psycopg.Connection) -> None:
    complaint(estate, "garbage", "垃圾堆放", "1号楼")
    assert search(estate, search="%") == ([], 0)
    assert search(estate, search="_") == ([], 0)


def test_filters_combine_and_the_total_counts_every_match(estate: psycopg.Connection) -> None:
    ids = [complaint(estate, "noise", f"装修噪声 {n}", f"{n}号楼", n).id for n in range(5)]
    complaint(estate, "pets", "犬只吠叫", "9号楼", 9)
    page, total = page_work_orders(estate, sites=[SITE], where=OrderFilter(category="noise", origins=["owner_report"]),
                                   limit=2, offset=2)
    assert total == 5 and [o.id for o in page] == [ids[2], ids[1]]
    assert search(estate, severity="P3")[1] == 1
    assert search(estate, created_since=T0 + timedelta(minutes=4))[1] == 2


def test_the_detail_names_the_place_and_adds_up_parts_and_labour(estate: psycopg.Connection, tmp_path: Path) -> None:
    order = file_complaint(estate, site_id=SITE, origin="owner_report", category="water_outage",
                           description="3楼以上无水", address="1号楼2单元", reporter_contact="", building_id=BUILDING,
                           building_unit="2单元", floor="3", actor="user:desk", now=T0).order
    for state in ("ACKED", "DISPATCHED", "ON_SITE"):
        step_to(estate, order.id, state, now=T0)
    transition(estate, order.id, "IN_PROGRESS", actor="crew:pe-1", cost=Decimal("80.00"), now=T0,
               parts=[{"name": "止回阀", "quantity": "2", "unit_cost": "45.50"}])
    transition(estate, order.id, "RESOLVED", actor="crew:pe-1", cost=Decimal("20.00"), now=T0,
               parts=[{"name": "生料带", "quantity": "1", "unit_cost": "3.00"}])
    attach_photo(estate, order.id, data=PNG, content_type="image/png", actor="crew:pe-1", uploads_dir=tmp_path)
    detail = order_detail(estate, order.id)
    where = detail.location
    assert (where.site_name, where.building_name, where.building_unit, where.floor) == ("测试小区", "1号楼", "2单元",
                                                                                      "3")
    assert (detail.costs.labour, detail.costs.parts, detail.costs.total) == (Decimal("100.00"), Decimal("94.00"),
                                                                             Decimal("194.00"))
    assert [(p.name, p.amount) for p in detail.costs.items] == [("止回阀", Decimal("91.00")),
                                                               ("生料带", Decimal("3.00"))]
    assert detail.costs.total == detail.order.cost_total
    assert len(detail.photos) == 1 and detail.timeline[-1].kind == "photo"


def test_the_detail_of_an_alarm_order_names_its_device(estate: psycopg.Connection) -> None:
    alarm = Alarm(id=1, category="elevator_entrapment", severity="P0", device_id=DEVICES["elevator"])
    order = handle_transition(estate, alarm_transition(1, alarm))
    assert order_detail(estate, order.id).location.device_name == DEVICES["elevator"]
