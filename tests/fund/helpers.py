"""Shorthand for opening draws in tests, on real work orders opened through dispatch."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from dispatch.fund import draws
from dispatch.responsibility import default_list_path, import_list, parse_list
from dispatch.workorders import NewOrder, WorkOrder, open_order

MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def new_work_order(conn: psycopg.Connection, site_id: str) -> WorkOrder:
    """An elevator safety work order (on the emergency list as fund category `elevator`)."""
    import_list(conn, parse_list(default_list_path().read_text(encoding="utf-8")), actor="test")
    spec = NewOrder(site_id=site_id, category="elevator_safety", component="elevator", severity="P0",
                    origin="alarm", title="电梯安全回路断路 safety circuit broken")
    return open_order(conn, spec, actor="test", now=MONDAY_10_SHANGHAI)


def open_draw(conn: psycopg.Connection, site_id: str, *, work_order: WorkOrder | None = None,
              scope: tuple[str, str] | None = None, estimate: str = "10000.00", fund_category: str = "elevator",
              now: datetime = MONDAY_10_SHANGHAI, **overrides: Any) -> draws.Draw:
    """Open an emergency draw for ``work_order`` (a new one unless given), estate-wide unless ``scope``."""
    order = work_order or new_work_order(conn, site_id)
    scope_type, scope_id = scope or ("site", site_id)
    args: dict[str, Any] = dict(
        site_id=site_id, work_order_id=order.id, work_order_number=order.number,
        item="1号楼电梯曳引机制动器更换 brake replacement", fund_category=fund_category,
        contractor="某电梯维保有限公司", scope_type=scope_type, scope_id=scope_id, estimate=Decimal(estimate),
        actor="dispatcher:zhao", now=now,
    )
    args.update(overrides)
    return draws.open_emergency_draw(conn, **args)
