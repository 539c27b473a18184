"""Work orders: opening them, the lifecycle with its allowed transitions, crew acceptance, photos and history.

Every change happens in one transaction that also appends the event (actor, time, note, cost) and NOTIFYs
``pw_work_orders`` with ``{"id": .., "state": ..}``.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from dispatch import assignment, orders
from dispatch.orders import CENT, IllegalTransition, WorkOrder, WorkOrderEvent, WorkOrderNotFound
from dispatch.responsibility import lookup
from dispatch.states import SATISFIES, STAMPS, TERMINAL_STATES, TRANSITIONS, State, can_transition
from rules.categories import categories

__all__ = [
    "AcceptConflict", "AcceptRefused", "IllegalTransition", "NewOrder", "Photo", "PhotoRejected", "WorkOrder",
    "WorkOrderEvent", "WorkOrderNotFound", "accept", "address_key", "attach_photo", "detect_image_type", "events",
    "find_repeat", "get_work_order", "list_work_orders", "open_from_report", "open_order", "page_work_orders",
    "transition",
]

REPORT_ORIGINS = frozenset({"owner_report", "hotline_12345"})
DEFAULT_REPEAT_WINDOW = timedelta(days=30)
MAX_PHOTO_BYTES = 8 * 1024 * 1024
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class AcceptConflict(ValueError):
    """Another crew member accepted the order first."""


class AcceptRefused(ValueError):
    """This crew member may not take the order (other unit, off shift, lacks the skill, unknown)."""


class PhotoRejected(ValueError):
    """The upload is empty, too large, or not the JPEG/PNG/WebP its content type claims."""


@dataclass(frozen=True)
class NewOrder:
    """What an intake path (alarm, report, hotline, schedule) knows when it opens an order."""

    site_id: str
    category: str
    component: str
    severity: str
    origin: str
    title: str
    building_id: str | None = None
    device_id: str | None = None
    description: str | None = None
    address: str | None = None
    reporter_contact: str | None = None
    incident_key: str | None = None
    repeat_of: int | None = None


@dataclass(frozen=True)
class Photo:
    """A stored photo; ``path`` is relative to the uploads directory."""

    id: int
    order_id: int
    path: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def open_order(
    conn: psycopg.Connection, spec: NewOrder, *, actor: str, now: datetime, resolve_due: datetime | None = None
) -> WorkOrder:
    """Open an order for the unit the responsibility list names, plan its SLA steps and offer it to crew.

    ``resolve_due`` overrides the list's resolve limit (preventive orders are due on their schedule date).
    Raises ``ResponsibilityNotFound`` when the list does not cover the category.
    """
    resp = lookup(conn, category=spec.category, component=spec.component, site_id=spec.site_id,
                  building_id=spec.building_id)
    with conn.transaction():
        number = _next_number(conn, spec.site_id, now)
        order_id = conn.execute(
            """INSERT INTO work_orders (number, site_id, building_id, device_id, category, component, severity,
                   origin, state, title, description, address, address_key, reporter_contact, incident_key,
                   repeat_of, unit_id, skill, accept_timeout_s, escalation, on_breach, emergency, fund_category,
                   responsibility_version, created_at, updated_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'NEW', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                       %s, %s, %s, %s)
               RETURNING id""",
            (number, spec.site_id, spec.building_id, spec.device_id, spec.category, spec.component, spec.severity,
             spec.origin, spec.title, spec.description, spec.address, address_key(spec.address),
             spec.reporter_contact, spec.incident_key, spec.repeat_of, resp.unit_id, resp.skill,
             int(resp.accept_timeout.total_seconds()), Jsonb(resp.escalation), Jsonb(resp.on_breach), resp.emergency,
             resp.fund_category, resp.version, now, now),
        ).fetchone()[0]
        due = {step: now + limit for step, limit in resp.sla.items()}
        if resolve_due is not None:
            due["resolve"] = resolve_due
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sla_steps (order_id, step, due_at) VALUES (%s, %s, %s)",
                [(order_id, step, at) for step, at in due.items()],
            )
        orders.record_event(
            conn, order_id, at=now, actor=actor, kind="transition", to_state=State.NEW, note=spec.title,
            data={"origin": spec.origin, "unit_id": resp.unit_id, "responsibility_version": resp.version,
                  "repeat_of": spec.repeat_of},
        )
        order = orders.fetch(conn, order_id)
        orders.enqueue(conn, order, "opened", [{"kind": "unit", "id": resp.unit_id}], now=now, level=0)
        orders.publish(conn, order)
        assignment.offer(conn, order_id, now=now)
    return orders.fetch(conn, order_id)


def _next_number(conn: psycopg.Connection, site_id: str, now: datetime) -> str:
    # Numbers follow the estate's local calendar day, which is what staff and the 12345 desk quote.
    tz = conn.execute("SELECT timezone FROM sites WHERE id = %s", (site_id,)).fetchone()
    day = now.astimezone(ZoneInfo(tz[0] if tz else "Asia/Shanghai")).date()
    seq = conn.execute(
        """INSERT INTO work_order_numbers (day, last) VALUES (%s, 1)
           ON CONFLICT (day) DO UPDATE SET last = work_order_numbers.last + 1 RETURNING last""",
        (day,),
    ).fetchone()[0]
    return f"WO-{day:%Y%m%d}-{seq:04d}"


def address_key(address: str | None) -> str | None:
    """An address normalised for repeat detection: NFKC (full-width → half-width), no spaces, lower case."""
    if not address:
        return None
    return "".join(unicodedata.normalize("NFKC", address).split()).lower()


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
    actor: str,
    now: datetime | None = None,
    repeat_window: timedelta = DEFAULT_REPEAT_WINDOW,
) -> WorkOrder:
    """Open an order from an owner's report or a 12345 hotline ticket, marking repeats at the same address."""
    now = now or datetime.now(UTC)
    if origin not in REPORT_ORIGINS:
        raise ValueError(f"origin must be one of {sorted(REPORT_ORIGINS)}, not {origin!r}")
    known = categories().get(category)
    if known is None:
        raise ValueError(f"unknown category {category!r} (see rules/categories.yaml)")
    component = "*" if known.component == "any" else known.component
    with conn.transaction():
        repeat_of = find_repeat(conn, category=category, now=now, window=repeat_window, address=address)
        spec = NewOrder(
            site_id=site_id, building_id=building_id, category=category, component=component,
            severity=known.severity, origin=origin, title=f"{known.zh} / {known.en}", description=description,
            address=address, reporter_contact=reporter_contact, repeat_of=repeat_of,
        )
        return open_order(conn, spec, actor=actor, now=now)


def get_work_order(conn: psycopg.Connection, order_id: int) -> WorkOrder | None:
    """One order, or ``None``."""
    try:
        return orders.fetch(conn, order_id)
    except WorkOrderNotFound:
        return None


def list_work_orders(
    conn: psycopg.Connection,
    *,
    states: list[str] | None = None,
    site_id: str | None = None,
    unit_id: str | None = None,
    assignee_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[WorkOrder]:
    """Orders matching every given filter, newest first."""
    return orders.query(
        conn,
        """(%(states)s::text[] IS NULL OR wo.state = ANY (%(states)s))
           AND (%(site)s::text IS NULL OR wo.site_id = %(site)s)
           AND (%(unit)s::text IS NULL OR wo.unit_id = %(unit)s)
           AND (%(assignee)s::text IS NULL OR wo.assignee_id = %(assignee)s)""",
        {"states": list(states) if states else None, "site": site_id, "unit": unit_id, "assignee": assignee_id},
        limit=limit, offset=offset,
    )


def page_work_orders(
    conn: psycopg.Connection,
    *,
    sites: Sequence[str] | None,
    states: Sequence[str] | None = None,
    unit_id: str | None = None,
    assignee_id: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[WorkOrder], int]:
    """One page of the orders matching every given filter, newest first, and how many match in all.

    ``sites=None`` means every site; an empty sequence matches nothing (a user scoped to no estate).
    """
    return orders.page(
        conn,
        """(%(sites)s::text[] IS NULL OR wo.site_id = ANY (%(sites)s))
           AND (%(states)s::text[] IS NULL OR wo.state = ANY (%(states)s))
           AND (%(unit)s::text IS NULL OR wo.unit_id = %(unit)s)
           AND (%(assignee)s::text IS NULL OR wo.assignee_id = %(assignee)s)""",
        {"sites": None if sites is None else list(sites), "states": list(states) if states else None,
         "unit": unit_id, "assignee": assignee_id},
        limit=limit, offset=offset,
    )


def events(conn: psycopg.Connection, order_id: int) -> list[WorkOrderEvent]:
    """An order's history, oldest first. Raises ``WorkOrderNotFound``."""
    orders.fetch(conn, order_id)
    return orders.list_events(conn, order_id)


def transition(
    conn: psycopg.Connection,
    order_id: int,
    to_state: str,
    *,
    actor: str,
    note: str | None = None,
    cost: Decimal | None = None,
    parts: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
    photo_ids: list[int] | None = None,
) -> WorkOrder:
    """Move an order to ``to_state`` if the state machine allows it, recording actor, note, labour cost and parts.

    ``cost`` is labour cost in yuan; ``parts`` are ``{"name", "quantity", "unit_cost"}`` mappings. Raises
    ``IllegalTransition`` (naming the allowed targets) or ``WorkOrderNotFound``.
    """
    now = now or datetime.now(UTC)
    try:
        target = State(to_state)
    except ValueError:
        raise IllegalTransition(f"unknown state {to_state!r}") from None
    labour = _money(cost, "cost")
    parts_list, parts_cost = _parts(parts)
    with conn.transaction():
        order = orders.fetch(conn, order_id, lock=True)
        current = State(order.state)
        if not can_transition(current, target):
            allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
            raise IllegalTransition(f"{order.number}: {current} → {target} is not allowed (from {current}: {allowed})")
        _apply_state(conn, order_id, current, target, now)
        orders.record_event(
            conn, order_id, at=now, actor=actor, kind="transition", from_state=current, to_state=target, note=note,
            labour_cost=labour, parts=parts_list, parts_cost=parts_cost, photo_ids=photo_ids,
        )
        orders.publish(conn, order_id, target.value)
    return orders.fetch(conn, order_id)


def _apply_state(conn: psycopg.Connection, order_id: int, current: State, target: State, now: datetime) -> None:
    sets = [sql.SQL("state = %(to)s"), sql.SQL("updated_at = %(now)s")]
    stamp = "closed_at" if target in TERMINAL_STATES else STAMPS.get(target)
    if stamp:
        column = sql.Identifier(stamp)
        sets.append(sql.SQL("{} = coalesce({}, %(now)s)").format(column, column))
    reopened = current is State.RESOLVED and target is State.IN_PROGRESS
    if reopened:
        sets.append(sql.SQL("resolved_at = NULL"))
    if target in TERMINAL_STATES or target is State.DISPATCHED:
        sets.append(sql.SQL("offered_to = NULL, offer_expires_at = NULL"))
        conn.execute("UPDATE work_order_offers SET outcome = 'superseded' WHERE order_id = %s AND outcome IS NULL",
                     (order_id,))
    conn.execute(
        sql.SQL("UPDATE work_orders SET {} WHERE id = %(id)s").format(sql.SQL(", ").join(sets)),
        {"to": target.value, "now": now, "id": order_id},
    )
    _satisfy_steps(conn, order_id, SATISFIES.get(target, ()), now)
    if reopened:
        conn.execute("UPDATE sla_steps SET satisfied_at = NULL WHERE order_id = %s AND step = 'resolve'", (order_id,))
    if target in TERMINAL_STATES:
        conn.execute(
            """UPDATE sla_steps SET cancelled_at = %s
               WHERE order_id = %s AND satisfied_at IS NULL AND fired_at IS NULL AND cancelled_at IS NULL""",
            (now, order_id),
        )


def _satisfy_steps(conn: psycopg.Connection, order_id: int, steps: tuple[str, ...], now: datetime) -> None:
    if steps:
        conn.execute(
            "UPDATE sla_steps SET satisfied_at = %s WHERE order_id = %s AND step = ANY (%s) AND satisfied_at IS NULL",
            (now, order_id, list(steps)),
        )


def _money(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal amount, not {value!r}") from None
    if amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"{name} must be a non-negative amount in whole fen (0.01), not {value!r}")
    return amount.quantize(CENT)


def _parts(parts: list[dict[str, Any]] | None) -> tuple[list[dict[str, str]], Decimal]:
    stored, total = [], Decimal("0.00")
    for part in parts or []:
        name = str(part.get("name") or "").strip()
        if not name:
            raise ValueError("every part needs a name")
        try:
            quantity = Decimal(str(part.get("quantity", 1)))
        except InvalidOperation:
            raise ValueError(f"part {name!r}: quantity must be a number") from None
        if quantity <= 0:
            raise ValueError(f"part {name!r}: quantity must be positive")
        unit_cost = _money(part.get("unit_cost"), f"part {name!r} unit_cost") or Decimal("0.00")
        total += (quantity * unit_cost).quantize(CENT)
        stored.append({"name": name, "quantity": str(quantity), "unit_cost": str(unit_cost)})
    return stored, total


def accept(conn: psycopg.Connection, order_id: int, crew_member_id: str, *, now: datetime | None = None) -> WorkOrder:
    """A crew member of the responsible unit (on shift, with the skill) takes an unassigned order.

    The order becomes DISPATCHED (acknowledged on the way if it was NEW). Race-safe: the order row is locked and
    the update is conditional on no assignee, so of two concurrent accepts exactly one wins and the other gets
    ``AcceptConflict``.
    """
    now = now or datetime.now(UTC)
    actor = f"crew:{crew_member_id}"
    with conn.transaction():
        crew = conn.execute(
            "SELECT unit_id, skills, on_shift FROM dispatch_crew WHERE id = %s", (crew_member_id,)
        ).fetchone()
        if crew is None:
            raise AcceptRefused(f"crew member {crew_member_id!r} does not exist")
        order = orders.fetch(conn, order_id, lock=True)
        if order.assignee_id is not None:
            raise AcceptConflict(f"{order.number} was already accepted by another crew member")
        current = State(order.state)
        if current not in (State.NEW, State.ACKED):
            raise IllegalTransition(f"{order.number} is {current}; only NEW or ACKED orders can be accepted")
        unit_id, skills, on_shift = crew
        skill = conn.execute("SELECT skill FROM work_orders WHERE id = %s", (order_id,)).fetchone()[0]
        if unit_id != order.unit_id:
            raise AcceptRefused(f"{order.number} belongs to unit {order.unit_id}, not {unit_id}")
        if not on_shift:
            raise AcceptRefused(f"crew member {crew_member_id!r} is not on shift")
        if skill != "any" and skill not in skills:
            raise AcceptRefused(f"{order.number} needs skill {skill!r}")
        updated = conn.execute(
            """UPDATE work_orders SET assignee_id = %(crew)s, state = 'DISPATCHED', updated_at = %(now)s,
                   acked_at = coalesce(acked_at, %(now)s), dispatched_at = coalesce(dispatched_at, %(now)s),
                   offered_to = NULL, offer_expires_at = NULL
               WHERE id = %(id)s AND assignee_id IS NULL""",
            {"crew": crew_member_id, "now": now, "id": order_id},
        ).rowcount
        if updated != 1:
            raise AcceptConflict(f"{order.number} was already accepted by another crew member")
        conn.execute(
            """UPDATE work_order_offers SET outcome = CASE WHEN crew_id = %s THEN 'accepted' ELSE 'superseded' END
               WHERE order_id = %s AND outcome IS NULL""",
            (crew_member_id, order_id),
        )
        if current is State.NEW:
            orders.record_event(conn, order_id, at=now, actor=actor, kind="transition", from_state=State.NEW,
                                to_state=State.ACKED)
        orders.record_event(conn, order_id, at=now, actor=actor, kind="transition", from_state=State.ACKED,
                            to_state=State.DISPATCHED, data={"assignee_id": crew_member_id})
        _satisfy_steps(conn, order_id, SATISFIES[State.DISPATCHED], now)
        orders.publish(conn, order_id, State.DISPATCHED.value)
    return orders.fetch(conn, order_id)


def detect_image_type(data: bytes) -> str | None:
    """The image type the magic bytes announce (JPEG, PNG or WebP), or ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def attach_photo(
    conn: psycopg.Connection,
    order_id: int,
    *,
    data: bytes,
    content_type: str,
    actor: str,
    uploads_dir: Path,
    max_bytes: int = MAX_PHOTO_BYTES,
    now: datetime | None = None,
) -> Photo:
    """Store a JPEG/PNG/WebP photo under ``uploads_dir`` and record it on the order.

    The content type must match the file's magic bytes; raises ``PhotoRejected`` otherwise or when the photo is
    empty or larger than ``max_bytes``.
    """
    now = now or datetime.now(UTC)
    if not data:
        raise PhotoRejected("the photo is empty")
    if len(data) > max_bytes:
        raise PhotoRejected(f"the photo is {len(data)} bytes; the limit is {max_bytes}")
    detected = detect_image_type(data)
    if detected is None or content_type not in _PHOTO_EXTENSIONS:
        raise PhotoRejected("photos must be JPEG, PNG or WebP")
    if detected != content_type:
        raise PhotoRejected(f"the file is {detected} but was sent as {content_type}")
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("work-orders") / str(order_id) / f"{digest}.{_PHOTO_EXTENSIONS[detected]}"
    with conn.transaction():
        orders.fetch(conn, order_id, lock=True)
        _write_atomically(Path(uploads_dir) / relative, data)
        photo_id = conn.execute(
            """INSERT INTO work_order_photos (order_id, path, content_type, size, sha256, uploaded_by, uploaded_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (order_id, relative.as_posix(), detected, len(data), digest, actor, now),
        ).fetchone()[0]
        orders.record_event(conn, order_id, at=now, actor=actor, kind="photo", photo_ids=[photo_id])
        orders.publish(conn, orders.fetch(conn, order_id))
    return Photo(photo_id, order_id, relative.as_posix(), detected, len(data), digest, actor, now)


def _write_atomically(path: Path, data: bytes) -> None:
    # Same content, same name: a re-upload overwrites identical bytes, and a crash never leaves half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
