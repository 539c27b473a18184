"""Measured performance at one estate over a period, as raw counts, for the credit evaluation of the property
company serving it (``supervision.credit``). Counts rather than ratios so that a caller can add up several
estates and contract periods; SLA compliance itself is ``dispatch.kpi.compute_kpis``.

Each figure counts orders by the moment named in its docstring falling in ``[start, end)``; cancelled orders
count in none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dispatch.complaints import COMPLAINT_ORIGINS, SATISFACTION
from dispatch.kpi import REACTIVE

# An order is handled once the repair is done or it was found to be no matter for repair.
_HANDLED = """(wo.resolved_at IS NOT NULL AND wo.resolved_at < %(end)s)
              OR (wo.state = 'FALSE_ALARM' AND wo.updated_at < %(end)s)"""


@dataclass(frozen=True)
class ResponseFigures:
    """Reactive orders opened in the period that were acknowledged, and their total time to acknowledgement."""

    acknowledged: int
    ack_seconds: float


@dataclass(frozen=True)
class ComplaintFigures:
    """Complaints (owner reports and 12345 tickets) filed in the period and how many were handled by its end;
    12345 replies that fell due in the period and how many were sent by the deadline; the hotline's satisfaction
    ratings recorded in the period, by rating."""

    filed: int
    handled: int
    replies_due: int
    replies_on_time: int
    ratings: dict[str, int]


@dataclass(frozen=True)
class PreventiveFigures:
    """Preventive orders whose due date (their resolve deadline) fell in the period, and how many were resolved
    by it."""

    due: int
    kept: int


def response_figures(conn: psycopg.Connection, *, site_id: str, start: datetime, end: datetime) -> ResponseFigures:
    """How fast the estate's reactive orders opened in ``[start, end)`` were acknowledged."""
    row = conn.execute(
        """SELECT count(*), coalesce(sum(extract(epoch FROM wo.acked_at - wo.created_at)), 0)
           FROM work_orders wo
           WHERE wo.site_id = %(site)s AND wo.created_at >= %(start)s AND wo.created_at < %(end)s
             AND wo.origin = ANY (%(reactive)s) AND wo.state <> 'CANCELLED' AND wo.acked_at IS NOT NULL""",
        {"site": site_id, "start": start, "end": end, "reactive": list(REACTIVE)},
    ).fetchone()
    return ResponseFigures(acknowledged=int(row[0]), ack_seconds=float(row[1]))


def complaint_figures(conn: psycopg.Connection, *, site_id: str, start: datetime, end: datetime) -> ComplaintFigures:
    """How the estate's complaints of ``[start, end)`` were handled, answered and rated."""
    params = {"site": site_id, "start": start, "end": end, "origins": list(COMPLAINT_ORIGINS)}
    filed, handled = conn.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE {_HANDLED}) FROM work_orders wo
            WHERE wo.site_id = %(site)s AND wo.created_at >= %(start)s AND wo.created_at < %(end)s
              AND wo.origin = ANY (%(origins)s) AND wo.state <> 'CANCELLED'""",  # noqa: S608 - constant
        params,
    ).fetchone()
    due, on_time = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE t.replied_at IS NOT NULL AND t.replied_at <= t.reply_due)
           FROM hotline_tickets t JOIN work_orders wo ON wo.id = t.order_id
           WHERE wo.site_id = %(site)s AND t.reply_due >= %(start)s AND t.reply_due < %(end)s
             AND wo.state <> 'CANCELLED'""",
        params,
    ).fetchone()
    rated = dict(conn.execute(
        """SELECT t.satisfaction, count(*) FROM hotline_tickets t JOIN work_orders wo ON wo.id = t.order_id
           WHERE wo.site_id = %(site)s AND t.satisfaction_at >= %(start)s AND t.satisfaction_at < %(end)s
           GROUP BY t.satisfaction""",
        params,
    ).fetchall())
    return ComplaintFigures(filed=int(filed), handled=int(handled), replies_due=int(due),
                            replies_on_time=int(on_time),
                            ratings={rating: int(rated.get(rating, 0)) for rating in SATISFACTION})


def preventive_figures(conn: psycopg.Connection, *, site_id: str, start: datetime, end: datetime
                       ) -> PreventiveFigures:
    """How many of the estate's preventive visits due in ``[start, end)`` were done on time."""
    due, kept = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE wo.resolved_at IS NOT NULL AND wo.resolved_at <= s.due_at)
           FROM work_orders wo JOIN sla_steps s ON s.order_id = wo.id AND s.step = 'resolve'
           WHERE wo.site_id = %(site)s AND wo.origin = 'preventive' AND wo.state <> 'CANCELLED'
             AND s.due_at >= %(start)s AND s.due_at < %(end)s""",
        {"site": site_id, "start": start, "end": end},
    ).fetchone()
    return PreventiveFigures(due=int(due), kept=int(kept))
