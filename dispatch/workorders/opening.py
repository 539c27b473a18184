"""Opening orders: numbering, the responsible unit and SLA steps from the list, the first offer, repeats.

An order is numbered per local calendar day of its estate ("WO-20261125-0001"). A report of the same category
at the same normalised address, or an alarm order on the same device, within the repeat window points at the
earlier order (``repeat_of``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from dispatch.errors import InvalidOrder
from dispatch.places import check_place
from dispatch.responsibility import lookup
from dispatch.states import State
from dispatch.workorders import journal, offers, queries
from dispatch.workorders.addresses import address_key
from dispatch.workorders.model import NewOrder, WorkOrder
from ingest.registry import Site
from rules.categories import categories

REPORT_ORIGINS = frozenset({"owner_report", "hotline_12345"})
DEFAULT_REPEAT_WINDOW = timedelta(days=30)


def open_order(
    conn: psycopg.Connection, spec: NewOrder, *, actor: str, now: datetime, resolve_due: datetime | None = None
) -> WorkOrder:
    """Open an order for the unit the responsibility list names, plan its SLA steps and offer it to crew.

    ``resolve_due`` overrides the list's resolve limit (preventive orders are due on their schedule date).
    Raises ``UnknownPlace`` when the site does not exist and ``ResponsibilityNotFound`` when the list does not
    cover the category. The building and device are the intake's to check: an alarm's come from the registry.
    """
    site = check_place(conn, spec.site_id)
    resp = lookup(conn, category=spec.category, component=spec.component, site_id=spec.site_id,
                  building_id=spec.building_id)
    with conn.transaction():
        number = _next_number(conn, site, now)
        order_id = conn.execute(
            """INSERT INTO work_orders (number, site_id, building_id, device_id, category, component, severity,
                   origin, state, title, title_en, description, address, address_key, reporter_contact, incident_key,
                   repeat_of, unit_id, skill, accept_timeout_s, escalation, on_breach, emergency, fund_category,
                   responsibility_version, created_at, updated_at, building_unit, floor, reporter_user)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'NEW', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                       %s, %s, %s, %s, %s, %s, %s)
               RETURNING id""",
            (number, spec.site_id, spec.building_id, spec.device_id, spec.category, spec.component, spec.severity,
             spec.origin, spec.title, spec.title_en, spec.description, spec.address, address_key(spec.address),
             spec.reporter_contact, spec.incident_key, spec.repeat_of, resp.unit_id, resp.skill,
             int(resp.accept_timeout.total_seconds()), Jsonb(resp.escalation), Jsonb(resp.on_breach), resp.emergency,
             resp.fund_category, resp.version, now, now, spec.building_unit, spec.floor, spec.reporter_user),
        ).fetchone()[0]
        due = {step: now + limit for step, limit in resp.sla.items()}
        if resolve_due is not None:
            due["resolve"] = resolve_due
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sla_steps (order_id, step, due_at) VALUES (%s, %s, %s)",
                [(order_id, step, at) for step, at in due.items()],
            )
        journal.record_event(
            conn, order_id, at=now, actor=actor, kind="transition", to_state=State.NEW,
            data={"origin": spec.origin, "unit_id": resp.unit_id, "responsibility_version": resp.version,
                  "repeat_of": spec.repeat_of},
        )
        order = queries.fetch(conn, order_id)
        journal.enqueue(conn, order, "opened", [{"kind": "unit", "id": resp.unit_id}], now=now, level=0)
        # The offer (or the escalation when nobody can take it) announces the new order, offeree included.
        return offers.offer(conn, order, skill=resp.skill, timeout=resp.accept_timeout, now=now)


def _next_number(conn: psycopg.Connection, site: Site, now: datetime) -> str:
    # Numbers follow the estate's local calendar day, which is what staff and the 12345 desk quote.
    day = now.astimezone(ZoneInfo(site.timezone)).date()
    seq = conn.execute(
        """INSERT INTO work_order_numbers (day, last) VALUES (%s, 1)
           ON CONFLICT (day) DO UPDATE SET last = work_order_numbers.last + 1 RETURNING last""",
        (day,),
    ).fetchone()[0]
    return f"WO-{day:%Y%m%d}-{seq:04d}"


def find_repeat(
    conn: psycopg.Connection, *, category: str, now: datetime, window: timedelta, device_id: str | None = None,
    address: str | None = None,
) -> int | None:
    """The latest order of the same category at the same device (or address) within ``window`` before ``now``."""
    row = conn.execute(
        """SELECT id FROM work_orders
           WHERE category = %(category)s AND created_at > %(since)s AND created_at <= %(now)s
             AND ((%(device)s::text IS NOT NULL AND device_id = %(device)s)
                  OR (%(address)s::text IS NOT NULL AND address_key = %(address)s))
           ORDER BY created_at DESC, id DESC LIMIT 1""",
        {"category": category, "since": now - window, "now": now, "device": device_id,
         "address": address_key(address)},
    ).fetchone()
    return row[0] if row else None


def open_from_report(
    conn: psycopg.Connection,
    *,
    site_id: str,
    origin: str,
    category: str,
    description: str,
    address: str,
    reporter_contact: str,
    building_id: str | None = None,
    building_unit: str | None = None,
    floor: str | None = None,
    device_id: str | None = None,
    reporter_user: str | None = None,
    actor: str,
    now: datetime | None = None,
    repeat_window: timedelta = DEFAULT_REPEAT_WINDOW,
) -> WorkOrder:
    """Open an order from an owner's report or a 12345 hotline ticket, marking repeats at the same address.

    Any category of the catalogue may be reported, equipment or estate matters (noise, parking, fire lanes …).
    Raises ``InvalidOrder`` for an unknown origin or category and ``UnknownPlace`` for a site that does not
    exist or a building or device of another site.
    """
    now = now or datetime.now(UTC)
    if origin not in REPORT_ORIGINS:
        raise InvalidOrder(f"origin must be one of {sorted(REPORT_ORIGINS)}, not {origin!r}")
    known = categories().get(category)
    if known is None:
        raise InvalidOrder(f"unknown category {category!r} (see rules/categories.yaml)")
    component = "*" if known.component == "any" else known.component
    check_place(conn, site_id, building_id=building_id, device_id=device_id)
    with conn.transaction():
        repeat_of = find_repeat(conn, category=category, now=now, window=repeat_window, address=address)
        spec = NewOrder(
            site_id=site_id, building_id=building_id, device_id=device_id, category=category, component=component,
            severity=known.severity, origin=origin, title=known.zh, title_en=known.en, description=description,
            address=address, reporter_contact=reporter_contact, repeat_of=repeat_of, building_unit=building_unit,
            floor=floor, reporter_user=reporter_user,
        )
        return open_order(conn, spec, actor=actor, now=now)
