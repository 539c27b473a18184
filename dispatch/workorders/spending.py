"""What a site's elevator maintenance cost: the actual costs of finished elevator work orders and fund draws.

Notice clause 19 puts elevator maintenance spending (电梯维修保养支出) on the public board. An elevator's
spending is the labour and parts recorded on its work orders once the repair is accepted (VERIFIED or CLOSED),
dated by when the repair was done (``resolved_at``), plus completed fund draws for elevators that no work order
carries: a voted overhaul of the elevator category, or elevator safety liability insurance bought from the fund
(purpose ``elevator_insurance``, notice clause 16). A work order's own draw is not added again: it completes at exactly
the cost the order records (``dispatch.fund.draws.complete``), so counting both would count the repair twice.
Months and years are the estate's calendar (``ingest.registry.site_timezone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from ingest import registry

CENT = Decimal("0.01")
ELEVATOR = "elevator"
INSURANCE = "elevator_insurance"
ACCEPTED_STATES = ("VERIFIED", "CLOSED")


@dataclass(frozen=True)
class MonthSpending:
    """One calendar month of the estate: work-order costs, fund draws outside orders, and their sum."""

    month: str  # YYYY-MM in the estate's time zone
    work_orders: Decimal
    fund_draws: Decimal
    total: Decimal


@dataclass(frozen=True)
class ElevatorSpending:
    """A year of elevator spending month by month (only months with spending), the year's totals, the
    current month's total, and how many repairs the year counts."""

    site_id: str
    year: int
    month: str
    month_total: Decimal
    year_total: Decimal
    year_work_orders: Decimal
    year_fund_draws: Decimal
    repairs: int
    months: list[MonthSpending]


def elevator_spending(conn: psycopg.Connection, site_id: str, *, on: date) -> ElevatorSpending:
    """The elevator spending of the year holding ``on`` (a date of the estate's calendar), month by month."""
    zone = registry.site_timezone(conn, site_id)
    start = datetime(on.year, 1, 1, tzinfo=zone)
    end = datetime(on.year + 1, 1, 1, tzinfo=zone)
    orders, repairs = _order_costs(conn, site_id, start, end, zone)
    draws = _draw_costs(conn, site_id, start, end, zone)
    months = [
        MonthSpending(m, orders.get(m, Decimal(0)), draws.get(m, Decimal(0)),
                      orders.get(m, Decimal(0)) + draws.get(m, Decimal(0)))
        for m in sorted(set(orders) | set(draws))
    ]
    this_month = f"{on.year:04d}-{on.month:02d}"
    return ElevatorSpending(
        site_id=site_id, year=on.year, month=this_month,
        month_total=next((m.total for m in months if m.month == this_month), Decimal("0.00")),
        year_total=sum((m.total for m in months), Decimal("0.00")),
        year_work_orders=sum((m.work_orders for m in months), Decimal("0.00")),
        year_fund_draws=sum((m.fund_draws for m in months), Decimal("0.00")),
        repairs=repairs, months=months,
    )


def _elevator_ids(conn: psycopg.Connection, site_id: str) -> list[str]:
    return [d.id for d in registry.list_devices(conn, site_id=site_id) if d.type == ELEVATOR]


def _order_costs(conn: psycopg.Connection, site_id: str, start: datetime, end: datetime,
                 zone: ZoneInfo) -> tuple[dict[str, Decimal], int]:
    rows = conn.execute(
        """SELECT to_char(o.resolved_at AT TIME ZONE %(zone)s, 'YYYY-MM') AS month,
                  sum(coalesce(e.labour_cost, 0) + e.parts_cost), count(DISTINCT o.id)
           FROM work_orders o JOIN work_order_events e ON e.order_id = o.id
           WHERE o.site_id = %(site)s AND o.device_id = ANY(%(devices)s) AND o.state = ANY(%(states)s)
             AND o.resolved_at >= %(start)s AND o.resolved_at < %(end)s
           GROUP BY 1""",
        {"zone": zone.key, "site": site_id, "devices": _elevator_ids(conn, site_id),
         "states": list(ACCEPTED_STATES), "start": start, "end": end},
    ).fetchall()
    return {month: Decimal(total).quantize(CENT) for month, total, _ in rows}, sum(n for _, _, n in rows)


def _draw_costs(conn: psycopg.Connection, site_id: str, start: datetime, end: datetime,
                zone: ZoneInfo) -> dict[str, Decimal]:
    rows = conn.execute(
        """SELECT to_char(completed_at AT TIME ZONE %(zone)s, 'YYYY-MM'), sum(actual_cost)
           FROM fund_draws
           WHERE site_id = %(site)s AND state = 'completed' AND work_order_id IS NULL
             AND (fund_category = %(category)s OR purpose = %(insurance)s)
             AND completed_at >= %(start)s AND completed_at < %(end)s
           GROUP BY 1""",
        {"zone": zone.key, "site": site_id, "category": ELEVATOR, "insurance": INSURANCE, "start": start,
         "end": end},
    ).fetchall()
    return {month: Decimal(total).quantize(CENT) for month, total in rows}
