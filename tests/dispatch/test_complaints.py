"""Complaints: estate categories routed by the list, owners' reports, 12345 tickets with their deadlines and the
records owed back to the hotline."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dispatch.complaints import (
    HotlineTicketIn,
    file_complaint,
    get_complaint,
    owed_to_hotline,
    page_complaints,
    record_satisfaction,
    record_to_hotline,
)
from dispatch.errors import HotlineStateConflict, InvalidHotlineTicket, WorkOrderNotFound
from dispatch.responsibility import default_list_path, parse_list
from dispatch.workorders import events
from rules.categories import categories

from .conftest import BUILDING, SITE, T0, step_to

COMPLAINT_CATEGORIES = ["noise", "illegal_parking", "ebike_charging", "fire_lane_blocked", "illegal_construction",
                        "garbage", "pets", "green_space", "sanitation", "security"]


def ticket(number: str = "12345-20261125-0042", *, reply_in: timedelta = timedelta(days=5),
           contact_in: timedelta | None = timedelta(hours=24)) -> HotlineTicketIn:
    return HotlineTicketIn(ticket_no=number, received_at=T0, reply_due=T0 + reply_in,
                           contact_due=T0 + contact_in if contact_in else None)


def hotline_noise(conn: psycopg.Connection, number: str = "12345-20261125-0042", **overrides):
    fields = {"site_id": SITE, "origin": "hotline_12345", "category": "noise",
              "description": "楼上每晚23点后装修电钻声", "address": "1号楼2单元1202", "reporter_contact": "13912345678",
              "building_id": BUILDING, "building_unit": "2单元", "floor": "12", "hotline": ticket(number),
              "actor": "user:desk", "now": T0}
    return file_complaint(conn, **{**fields, **overrides})


def test_every_estate_category_is_in_the_catalogue_with_a_site_wide_item_and_its_source() -> None:
    items = {i.category: i for i in parse_list(default_list_path().read_text(encoding="utf-8")).items
             if i.site == "*"}
    assert set(COMPLAINT_CATEGORIES) <= set(categories())
    assert all(items[c].source and items[c].sop for c in COMPLAINT_CATEGORIES)


@pytest.mark.parametrize("category", COMPLAINT_CATEGORIES)
def test_an_owner_report_of_an_estate_category_opens_an_order_for_its_listed_unit(
        estate: psycopg.Connection, category: str) -> None:
    expected = next(i.unit for i in parse_list(default_list_path().read_text(encoding="utf-8")).items
                    if i.category == category)
    filed = file_complaint(estate, site_id=SITE, origin="owner_report", category=category, description="x",
                           address=f"{category} 1号楼", reporter_contact="", reporter_user="owner-1",
                           actor="user:owner-1", now=T0)
    assert (filed.order.unit_id, filed.order.origin, filed.order.state, filed.hotline) == (
        expected, "owner_report", "NEW", None)


def test_a_12345_noise_complaint_goes_to_property_engineering_with_its_place(estate: psycopg.Connection) -> None:
    filed = hotline_noise(estate)
    order = filed.order
    assert (order.unit_id, order.category, order.building_unit, order.floor) == ("property-eng", "noise", "2单元",
                                                                                 "12")
    assert (filed.hotline.ticket_no, filed.hotline.reply_due) == ("12345-20261125-0042", T0 + timedelta(days=5))
    assert filed.hotline.owed() == ["contact", "reply", "closure"]


def test_a_12345_complaint_without_its_ticket_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(InvalidHotlineTicket, match="needs its ticket"):
        hotline_noise(estate, hotline=None)


def test_a_reply_deadline_before_the_ticket_was_received_is_refused(estate: psycopg.Connection) -> None:
    with pytest.raises(InvalidHotlineTicket, match="reply_due"):
        hotline_noise(estate, hotline=ticket(reply_in=-timedelta(hours=1)))


def test_the_same_ticket_filed_twice_is_a_conflict(estate: psycopg.Connection) -> None:
    first = hotline_noise(estate)
    with pytest.raises(HotlineStateConflict, match=f"already work order {first.order.id}"):
        hotline_noise(estate)


def test_a_second_complaint_from_the_same_address_is_a_repeat(estate: psycopg.Connection) -> None:
    first = hotline_noise(estate)
    second = hotline_noise(estate, "12345-20261126-0007", now=T0 + timedelta(days=1),
                           hotline=HotlineTicketIn("12345-20261126-0007", T0 + timedelta(days=1),
                                                   T0 + timedelta(days=6)),
                           address="1号楼 2单元 1202")
    assert second.order.repeat_of == first.order.id


def test_the_closure_waits_for_the_repair(estate: psycopg.Connection) -> None:
    order = hotline_noise(estate).order
    record_to_hotline(estate, order.id, "contact", text="已电话联系投诉人", actor="user:desk", now=T0)
    with pytest.raises(HotlineStateConflict, match="once it is resolved"):
        record_to_hotline(estate, order.id, "closure", text="已处理", actor="user:desk")
    for state in ("ACKED", "DISPATCHED", "ON_SITE", "RESOLVED"):
        step_to(estate, order.id, state, now=T0 + timedelta(hours=2))
    closed = record_to_hotline(estate, order.id, "closure", text="已劝阻，装修时间调整为8-18点", actor="user:desk",
                               now=T0 + timedelta(hours=3))
    assert (closed.contacted_at, closed.replied_at, closed.closed_at) == (T0, T0 + timedelta(hours=3),
                                                                           T0 + timedelta(hours=3))
    assert closed.owed() == []


def test_nothing_more_is_sent_after_the_closure(estate: psycopg.Connection) -> None:
    order = hotline_noise(estate).order
    step_to(estate, order.id, "CANCELLED", now=T0, note="非本物业管辖，已告知12345")
    record_to_hotline(estate, order.id, "closure", text="非本物业管辖", actor="user:desk", now=T0)
    with pytest.raises(HotlineStateConflict, match="was sent"):
        record_to_hotline(estate, order.id, "reply", text="again", actor="user:desk")


def test_satisfaction_is_recorded_once_after_the_closure(estate: psycopg.Connection) -> None:
    order = hotline_noise(estate).order
    with pytest.raises(HotlineStateConflict, match="closure record before"):
        record_satisfaction(estate, order.id, "satisfied", actor="user:desk")
    step_to(estate, order.id, "CANCELLED", now=T0, note="投诉人撤诉")
    record_to_hotline(estate, order.id, "closure", text="投诉人撤诉", actor="user:desk", now=T0)
    rated = record_satisfaction(estate, order.id, "basically_satisfied", note="回访：基本满意", actor="user:desk",
                                now=T0 + timedelta(days=1))
    assert (rated.satisfaction, rated.satisfaction_at) == ("basically_satisfied", T0 + timedelta(days=1))
    with pytest.raises(HotlineStateConflict, match="was recorded"):
        record_satisfaction(estate, order.id, "dissatisfied", actor="user:desk")


def test_an_unknown_rating_is_refused(estate: psycopg.Connection) -> None:
    order = hotline_noise(estate).order
    with pytest.raises(InvalidHotlineTicket, match="satisfaction must be one of"):
        record_satisfaction(estate, order.id, "great", actor="user:desk")


def test_an_owner_report_has_no_ticket_to_answer(estate: psycopg.Connection) -> None:
    filed = file_complaint(estate, site_id=SITE, origin="owner_report", category="garbage", description="x",
                           address="3号楼", reporter_contact="", actor="user:owner", now=T0)
    with pytest.raises(InvalidHotlineTicket, match="has no 12345 ticket"):
        record_to_hotline(estate, filed.order.id, "reply", text="done", actor="user:desk")


def test_every_record_is_on_the_orders_timeline(estate: psycopg.Connection) -> None:
    order = hotline_noise(estate).order
    record_to_hotline(estate, order.id, "contact", text="已联系", actor="user:desk", now=T0 + timedelta(days=2))
    hotline = [(e.data["record"], e.note, e.data.get("late")) for e in events(estate, order.id) if e.kind == "hotline"]
    assert hotline == [("received", "12345 ticket 12345-20261125-0042", None), ("contact", "已联系", True)]


def test_tickets_still_owed_are_listed_by_reply_deadline(estate: psycopg.Connection) -> None:
    late = hotline_noise(estate, "T-2", hotline=ticket("T-2", reply_in=timedelta(days=2))).order
    early = hotline_noise(estate, "T-1", hotline=ticket("T-1", reply_in=timedelta(days=1)), address="5号楼").order
    done = hotline_noise(estate, "T-0", hotline=ticket("T-0"), address="6号楼").order
    step_to(estate, done.id, "CANCELLED", now=T0, note="重复")
    record_to_hotline(estate, done.id, "closure", text="重复工单", actor="user:desk", now=T0)
    owed, total = owed_to_hotline(estate, sites=[SITE], limit=10, offset=0)
    assert total == 2 and [c.order.id for c in owed] == [early.id, late.id]
    assert owed[0].hotline.overdue(T0 + timedelta(days=1, seconds=1)) == ["contact", "reply", "closure"]
    assert owed_to_hotline(estate, sites=["S9"], limit=10, offset=0) == ([], 0)


def test_an_owner_pages_only_their_own_complaints(estate: psycopg.Connection) -> None:
    for n, user in enumerate(["owner-1", "owner-2", "owner-1"]):
        file_complaint(estate, site_id=SITE, origin="owner_report", category="pets", description="犬只未拴绳",
                       address=f"{n}号楼", reporter_contact="", reporter_user=user, actor=f"user:{user}", now=T0)
    mine, total = page_complaints(estate, sites=[SITE], reporter_user="owner-1", limit=1, offset=0)
    assert total == 2 and len(mine) == 1 and mine[0].order.reporter_user == "owner-1"


def test_an_order_that_is_not_a_complaint_is_not_found_as_one(estate: psycopg.Connection) -> None:
    with pytest.raises(WorkOrderNotFound):
        get_complaint(estate, 404)
