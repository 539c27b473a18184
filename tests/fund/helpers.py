"""Shorthand for opening draws in tests, on real work orders opened and worked through dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from dispatch.crew import CrewMember, upsert_crew_member
from dispatch.fund import draws
from dispatch.responsibility import default_list_path, import_list, parse_list
from dispatch.workorders import NewOrder, WorkOrder, accept, open_order, transition

MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CREW = "lift-tech-1"


def new_order(conn: psycopg.Connection, site_id: str, *, category: str = "elevator_safety",
              component: str = "elevator", now: datetime = MONDAY_10_SHANGHAI) -> WorkOrder:
    """A NEW work order, offered to a crew member of its unit who has the component as a skill.

    ``elevator_safety`` is on the emergency list as fund category ``elevator``, ``fire_system_fault`` as
    ``fire_system``; ``elevator_fault`` is not on it."""
    import_list(conn, parse_list(default_list_path().read_text(encoding="utf-8")), actor="test")
    spec = NewOrder(site_id=site_id, category=category, component=component, severity="P1",
                    origin="alarm", title="电梯安全回路断路 safety circuit broken")
    order = open_order(conn, spec, actor="test", now=now)
    upsert_crew_member(conn, CrewMember(id=CREW, unit_id=order.unit_id, name="Technician", phone="",
                                        skills=[component], on_shift=True))
    return order


def new_work_order(conn: psycopg.Connection, site_id: str, *, category: str = "elevator_safety",
                   component: str = "elevator", now: datetime = MONDAY_10_SHANGHAI) -> WorkOrder:
    """A work order the crew has reached and assessed (ON_SITE), so a draw may be asked for."""
    order = new_order(conn, site_id, category=category, component=component, now=now)
    accept(conn, order.id, CREW, now=now + timedelta(minutes=1))
    return transition(conn, order.id, "ON_SITE", actor=f"crew:{CREW}", now=now + timedelta(minutes=20))


def verify_repair(conn: psycopg.Connection, order: WorkOrder, cost: str, *,
                  now: datetime = MONDAY_10_SHANGHAI) -> WorkOrder:
    """The crew resolves the order recording ``cost`` as labour, and the operator verifies the repair."""
    transition(conn, order.id, "RESOLVED", actor=f"crew:{CREW}", cost=Decimal(cost), now=now + timedelta(hours=2))
    return transition(conn, order.id, "VERIFIED", actor="operator:wang", now=now + timedelta(hours=3))


def open_draw(conn: psycopg.Connection, site_id: str, *, work_order: WorkOrder | None = None,
              scope: tuple[str, str] | None = None, estimate: str = "10000.00",
              now: datetime = MONDAY_10_SHANGHAI, **overrides: Any) -> draws.Draw:
    """Open an emergency draw for ``work_order`` (a new one on site unless given), estate-wide unless ``scope``."""
    order = work_order or new_work_order(conn, site_id)
    scope_type, scope_id = scope or ("site", site_id)
    args: dict[str, Any] = dict(
        site_id=site_id, work_order_id=order.id, item="1号楼电梯曳引机制动器更换 brake replacement",
        contractor="某电梯维保有限公司", scope_type=scope_type, scope_id=scope_id, estimate=Decimal(estimate),
        actor="dispatcher:zhao", now=now,
    )
    args.update(overrides)
    return draws.open_emergency_draw(conn, **args)


def repaired_and_approved(conn: psycopg.Connection, site_id: str, cost: str, **kwargs: Any) -> draws.Draw:
    """An approved emergency draw whose work order is verified at ``cost``: ready to complete."""
    order = new_work_order(conn, site_id)
    draw = open_draw(conn, site_id, work_order=order, **kwargs)
    verify_repair(conn, order, cost)
    return draws.approve(conn, draw.id, actor="committee:chen", role="committee", comment="")
