"""The factors measured from dispatch (dispatch.performance): 12345 replies on time, the hotline's satisfaction,
preventive visits kept; each with the raw counts it came from."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg

from dispatch.complaints import HotlineTicketIn, file_complaint, record_satisfaction, record_to_hotline
from dispatch.preventive import create_plan, open_due_orders
from ingest.registry import Device, upsert_device
from supervision.companies import Company
from supervision.credit import evaluate
from tests.dispatch.conftest import step_to

from .conftest import MONTH, SITE, T0

H = timedelta(hours=1)


def factor(conn: psycopg.Connection, company: Company, factor_id: str):
    return next(f for f in evaluate(conn, company.id, MONTH).factors if f.id == factor_id)


def hotline_ticket(conn: psycopg.Connection, number: str, *, reply_due):
    return file_complaint(conn, site_id=SITE, origin="hotline_12345", category="water_outage", description="停水",
                          address=f"{number}号楼", reporter_contact="", actor="user:desk", now=T0,
                          hotline=HotlineTicketIn(ticket_no=number, received_at=T0, reply_due=reply_due))


def test_12345_replies_count_on_time_only_by_their_deadline(company: Company, served: psycopg.Connection) -> None:
    on_time = hotline_ticket(served, "1", reply_due=T0 + 24 * H)
    late = hotline_ticket(served, "2", reply_due=T0 + 24 * H)
    record_to_hotline(served, on_time.order.id, "reply", text="已安排维修", actor="op", now=T0 + 2 * H)
    record_to_hotline(served, late.order.id, "reply", text="已安排维修", actor="op", now=T0 + 30 * H)
    timeliness = factor(served, company, "complaint_timeliness")
    assert (timeliness.counts, timeliness.score) == ({"replied_on_time": 1, "replies_due": 2}, Decimal("50.00"))


def test_the_hotline_satisfaction_is_scored_by_the_model_ratings(company: Company, served: psycopg.Connection
                                                                 ) -> None:
    ticket = hotline_ticket(served, "3", reply_due=T0 + 24 * H)
    for state, at in [("ACKED", H), ("DISPATCHED", 2 * H), ("ON_SITE", 3 * H), ("RESOLVED", 4 * H)]:
        step_to(served, ticket.order.id, state, now=T0 + at)
    record_to_hotline(served, ticket.order.id, "closure", text="已修复", actor="op", now=T0 + 5 * H)
    record_satisfaction(served, ticket.order.id, "basically_satisfied", actor="op", now=T0 + 6 * H)
    satisfaction = factor(served, company, "complaint_satisfaction")
    assert satisfaction.counts == {"satisfied": 0, "basically_satisfied": 1, "dissatisfied": 0}
    assert satisfaction.score == Decimal("70.00")


def test_a_preventive_visit_done_after_its_due_date_is_not_kept(company: Company, served: psycopg.Connection
                                                                ) -> None:
    upsert_device(served, Device(id="S1-B01-EL01", site_id=SITE, building_id="S1-B01", type="elevator", name="1号梯"))
    due = T0 + 48 * H
    create_plan(served, template="elevator_half_monthly", site_id=SITE, device_id="S1-B01-EL01", first_due=due,
                actor="admin")
    assert open_due_orders(served, now=T0) == 1
    order_id = served.execute("SELECT id FROM work_orders WHERE origin = 'preventive'").fetchone()[0]
    for state, at in [("ACKED", H), ("DISPATCHED", 2 * H), ("ON_SITE", 50 * H), ("RESOLVED", 52 * H)]:
        step_to(served, order_id, state, now=T0 + at)
    kept = factor(served, company, "preventive_kept")
    assert (kept.counts, kept.score) == ({"kept": 0, "due": 1}, Decimal("0.00"))
