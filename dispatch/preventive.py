"""Preventive maintenance: templates (dispatch/data/preventive.yaml) and plans that open orders on a cadence.

A plan is a template applied to one device (or a site/building). ``open_due_orders`` opens the order for a plan
``lead`` before its due date, with the due date as the resolve deadline, and moves the plan one interval on, in
the same transaction, so a period is never skipped or opened twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import class_row

from dispatch.durations import parse_duration
from dispatch.errors import InvalidOrder, PlanExists, PlanNotFound
from dispatch.places import check_place
from dispatch.workorders import NewOrder, open_order

PREVENTIVE_ACTOR = "system:preventive"


@dataclass(frozen=True)
class Plan:
    """A template scheduled for one device (or a site/building): the next due date and whether it runs."""

    id: int
    template: str
    site_id: str
    building_id: str | None
    device_id: str | None
    next_due_at: datetime
    active: bool
    created_by: str


@dataclass(frozen=True)
class Template:
    """A recurring maintenance task and the rule it comes from."""

    id: str
    category: str
    component: str
    interval: timedelta
    lead: timedelta
    title_zh: str
    title_en: str
    checklist_items: int
    source: str


@cache
def templates() -> dict[str, Template]:
    """The shipped templates by id."""
    text = (resources.files("dispatch") / "data" / "preventive.yaml").read_text(encoding="utf-8")
    result = {}
    for raw in yaml.safe_load(text)["templates"]:
        result[raw["id"]] = Template(
            id=raw["id"], category=raw["category"], component=raw["component"],
            interval=parse_duration(raw["interval"]), lead=parse_duration(raw["lead"]), title_zh=raw["title_zh"],
            title_en=raw["title_en"], checklist_items=int(raw["checklist_items"]), source=raw["source"],
        )
    return result


def create_plan(
    conn: psycopg.Connection, *, template: str, site_id: str, first_due: datetime, actor: str,
    device_id: str | None = None, building_id: str | None = None,
) -> int:
    """Schedule ``template`` for a device (or place) with its first due date; return the plan id.

    Idempotent: an existing plan for the same template and device is kept as it is (its due date too). Raises
    ``InvalidOrder`` for an unknown template and ``UnknownPlace`` for a site that does not exist or a building or
    device of another site.
    """
    if template not in templates():
        raise InvalidOrder(f"unknown preventive template {template!r} (known: {', '.join(templates())})")
    check_place(conn, site_id, building_id=building_id, device_id=device_id)
    return conn.execute(
        """INSERT INTO preventive_plans (template, site_id, building_id, device_id, next_due_at, created_by)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (template, site_id, device_id) DO UPDATE SET active = preventive_plans.active
           RETURNING id""",
        (template, site_id, building_id, device_id, first_due, actor),
    ).fetchone()[0]


_PLAN = "SELECT id, template, site_id, building_id, device_id, next_due_at, active, created_by FROM preventive_plans"
_PLAN_FILTERS = sql.SQL("""(%(sites)s::text[] IS NULL OR site_id = ANY (%(sites)s))
    AND (%(template)s::text IS NULL OR template = %(template)s)
    AND (%(active)s::boolean IS NULL OR active = %(active)s)
    AND (%(device)s::text IS NULL OR device_id = %(device)s)""")


def add_plan(
    conn: psycopg.Connection, *, template: str, site_id: str, first_due: datetime, actor: str,
    device_id: str | None = None, building_id: str | None = None,
) -> Plan:
    """Schedule ``template`` like ``create_plan``, refusing a duplicate instead of keeping it: raises
    ``PlanExists`` when the template is already planned for the device (or place)."""
    if template not in templates():
        raise InvalidOrder(f"unknown preventive template {template!r} (known: {', '.join(templates())})")
    check_place(conn, site_id, building_id=building_id, device_id=device_id)
    with conn.cursor(row_factory=class_row(Plan)) as cur:
        plan = cur.execute(
            """INSERT INTO preventive_plans (template, site_id, building_id, device_id, next_due_at, created_by)
               SELECT %(template)s, %(site)s, %(building)s, %(device)s, %(due)s, %(actor)s
               WHERE NOT EXISTS (SELECT 1 FROM preventive_plans WHERE template = %(template)s AND site_id = %(site)s
                                   AND device_id IS NOT DISTINCT FROM %(device)s
                                   AND building_id IS NOT DISTINCT FROM %(building)s)
               ON CONFLICT (template, site_id, device_id) DO NOTHING
               RETURNING id, template, site_id, building_id, device_id, next_due_at, active, created_by""",
            {"template": template, "site": site_id, "building": building_id, "device": device_id, "due": first_due,
             "actor": actor},
        ).fetchone()
    if plan is None:
        raise PlanExists(f"{template} is already planned for {device_id or building_id or site_id}")
    return plan


def get_plan(conn: psycopg.Connection, plan_id: int) -> Plan | None:
    """One plan, or ``None``."""
    with conn.cursor(row_factory=class_row(Plan)) as cur:
        return cur.execute(_PLAN + " WHERE id = %s", (plan_id,)).fetchone()


def page_plans(
    conn: psycopg.Connection, *, sites: Sequence[str] | None, template: str | None = None,
    active: bool | None = None, device_id: str | None = None, limit: int, offset: int,
) -> tuple[list[Plan], int]:
    """One page of plans, the soonest due first, and how many match. ``sites=None`` means every site."""
    params = {"sites": None if sites is None else list(sites), "template": template, "active": active,
              "device": device_id, "limit": limit, "offset": offset}
    total = conn.execute(sql.SQL("SELECT count(*) FROM preventive_plans WHERE {}").format(_PLAN_FILTERS),
                         params).fetchone()[0]
    query = sql.SQL(_PLAN + " WHERE {} ORDER BY next_due_at, id LIMIT %(limit)s OFFSET %(offset)s").format(
        _PLAN_FILTERS)
    with conn.cursor(row_factory=class_row(Plan)) as cur:
        rows = cur.execute(query, params).fetchall()
    return rows, total


def update_plan(
    conn: psycopg.Connection, plan_id: int, *, next_due_at: datetime | None = None, active: bool | None = None,
) -> Plan:
    """Move a plan's next due date or pause/resume it; ``None`` leaves a field as it is. Raises
    ``PlanNotFound``."""
    with conn.cursor(row_factory=class_row(Plan)) as cur:
        plan = cur.execute(
            """UPDATE preventive_plans SET next_due_at = coalesce(%s, next_due_at), active = coalesce(%s, active)
               WHERE id = %s
               RETURNING id, template, site_id, building_id, device_id, next_due_at, active, created_by""",
            (next_due_at, active, plan_id),
        ).fetchone()
    if plan is None:
        raise PlanNotFound(f"preventive plan {plan_id} does not exist")
    return plan


def open_due_orders(conn: psycopg.Connection, *, now: datetime, limit: int = 100) -> int:
    """Open the order of every plan whose due date is within its lead time; return how many were opened."""
    opened = 0
    while opened < limit:
        with conn.transaction():
            row = conn.execute(
                """SELECT id, template, site_id, building_id, device_id, next_due_at FROM preventive_plans
                   WHERE active
                     AND next_due_at - make_interval(secs => (%(lead)s::jsonb ->> template)::float8) <= %(now)s
                   ORDER BY next_due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                {"now": now, "lead": _leads_json()},
            ).fetchone()
            if row is None:
                break
            plan_id, template_id, site_id, building_id, device_id, due = row
            template = templates()[template_id]
            spec = NewOrder(
                site_id=site_id, building_id=building_id, device_id=device_id, category=template.category,
                component=template.component, severity="P3", origin="preventive",
                title=template.title_zh, title_en=template.title_en,
                description=f"{template.checklist_items} checklist items; due {due.date().isoformat()}",
            )
            open_order(conn, spec, actor=PREVENTIVE_ACTOR, now=now, resolve_due=due)
            conn.execute("UPDATE preventive_plans SET next_due_at = %s WHERE id = %s",
                         (due + template.interval, plan_id))
            opened += 1
    return opened


def _leads_json() -> str:
    return json.dumps({t.id: t.lead.total_seconds() for t in templates().values()})
