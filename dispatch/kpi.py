"""Dispatch KPIs per unit, site or property company over orders opened in a period (definitions: DOMAIN.md §6.4).

* MTTA = mean(acked − opened) over reactive orders that were acknowledged.
* MTTR = mean(resolved − opened): the "resolve − start" variant, i.e. what the resident waits from detection or
  report to repair, including response and travel. Reactive orders that reached RESOLVED.
* SLA compliance = orders whose every SLA step (ack, dispatch, arrive, resolve) was met by its deadline, over
  orders whose steps are decided by ``end`` (met, missed, or overdue and still open). Cancelled and false-alarm
  orders are left out.
* 3-minute response rate and 30-minute arrival rate (Jinan 96333 KPIs, DOMAIN.md §1.6 [P-jinan]): share of P0
  reactive orders acknowledged within ``response_within`` / with the crew on site within ``arrival_within``.
  False alarms are left out of the arrival rate (nobody needs to arrive).
* Repeat-fault rate = reactive orders that repeat an order of the same category at the same device or address
  within the repeat window (``repeat_of`` set at intake), over reactive orders that were not false alarms.
* False-alarm rate = FALSE_ALARM orders over reactive orders.

"Reactive" = origin alarm, owner report or 12345 hotline (preventive visits are planned, not responses).
Cancelled orders count in none of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import dict_row

REACTIVE = ("alarm", "owner_report", "hotline_12345")


@dataclass(frozen=True)
class Rate:
    """``hits`` of ``total``; ``value`` is the fraction (``None`` when there is nothing to measure)."""

    hits: int
    total: int
    value: float | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", self.hits / self.total if self.total else None)


@dataclass(frozen=True)
class Kpis:
    """The KPI set for one scope and period. Durations are ``None`` when nothing was measured."""

    start: datetime
    end: datetime
    unit_id: str | None
    site_id: str | None
    company_id: str | None
    orders: int
    mtta: timedelta | None
    mttr: timedelta | None
    sla_compliance: Rate
    response_rate: Rate
    arrival_rate: Rate
    repeat_fault_rate: Rate
    false_alarm_rate: Rate


def compute_kpis(
    conn: psycopg.Connection,
    *,
    start: datetime,
    end: datetime,
    unit_id: str | None = None,
    site_id: str | None = None,
    company_id: str | None = None,
    response_within: timedelta = timedelta(minutes=3),
    arrival_within: timedelta = timedelta(minutes=30),
) -> Kpis:
    """KPIs over orders opened in ``[start, end)``, optionally for one responsible unit, one site, or the sites a
    property company (a unit of kind ``property``) serves."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT wo.origin, wo.severity, wo.state, wo.created_at, wo.acked_at, wo.on_site_at, wo.resolved_at,
                      wo.repeat_of IS NOT NULL AS repeat,
                      bool_or(s.fired_at IS NOT NULL OR s.satisfied_at > s.due_at
                              OR (s.satisfied_at IS NULL AND s.cancelled_at IS NULL AND s.due_at <= %(end)s))
                          AS breached,
                      bool_or(s.satisfied_at IS NULL AND s.cancelled_at IS NULL AND s.fired_at IS NULL
                              AND s.due_at > %(end)s) AS undecided
               FROM work_orders wo LEFT JOIN sla_steps s ON s.order_id = wo.id
               WHERE wo.created_at >= %(start)s AND wo.created_at < %(end)s AND wo.state <> 'CANCELLED'
                 AND (%(unit)s::text IS NULL OR wo.unit_id = %(unit)s)
                 AND (%(site)s::text IS NULL OR wo.site_id = %(site)s)
                 AND (%(company)s::text IS NULL OR wo.site_id = ANY (
                        SELECT unnest(site_ids) FROM dispatch_units WHERE id = %(company)s)
                      OR EXISTS (SELECT 1 FROM dispatch_units WHERE id = %(company)s AND site_ids = '{}'))
               GROUP BY wo.id""",
            {"start": start, "end": end, "unit": unit_id, "site": site_id, "company": company_id},
        ).fetchall()
    reactive = [r for r in rows if r["origin"] in REACTIVE]
    genuine = [r for r in reactive if r["state"] != "FALSE_ALARM"]
    critical = [r for r in reactive if r["severity"] == "P0"]
    decided = [r for r in rows if r["state"] != "FALSE_ALARM" and (r["breached"] or not r["undecided"])]
    return Kpis(
        start=start, end=end, unit_id=unit_id, site_id=site_id, company_id=company_id, orders=len(rows),
        mtta=_mean([r["acked_at"] - r["created_at"] for r in reactive if r["acked_at"]]),
        mttr=_mean([r["resolved_at"] - r["created_at"] for r in reactive if r["resolved_at"]]),
        sla_compliance=Rate(sum(1 for r in decided if not r["breached"]), len(decided)),
        response_rate=Rate(
            sum(1 for r in critical if r["acked_at"] and r["acked_at"] - r["created_at"] <= response_within),
            len(critical),
        ),
        arrival_rate=Rate(
            sum(1 for r in critical if r["on_site_at"] and r["on_site_at"] - r["created_at"] <= arrival_within
                and r["state"] != "FALSE_ALARM"),
            sum(1 for r in critical if r["state"] != "FALSE_ALARM"),
        ),
        repeat_fault_rate=Rate(sum(1 for r in genuine if r["repeat"]), len(genuine)),
        false_alarm_rate=Rate(sum(1 for r in reactive if r["state"] == "FALSE_ALARM"), len(reactive)),
    )


def _mean(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None
