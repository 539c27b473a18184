"""A seeded estate for API and browser tests: the demo estate with users of every role, a trapped-passenger
alarm raised through the rules engine, its work order opened by dispatch, and fund draws."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dashboard.users import create_user
from ingest import registry
from ingest.database import connect
from ingest.records import Batch, DeviceEvent

OTHER_SITE = "OTHERSITE"
OUTSIDER_PASSWORD = "outsider-pass-1"
_names = itertools.count()


@dataclass
class World:
    database_url: str
    site_id: str
    building_id: str
    elevator_id: str
    passwords: dict[str, tuple[str, str]]  # role -> (username, password)
    crew_member_id: str
    alarm_id: int | None = None
    order_id: int | None = None
    draw_id: int | None = None


@contextmanager
def fresh_database(admin_url: str, template: str) -> Iterator[str]:
    """A database cloned from the migrated template, dropped afterwards."""
    name = f"pw_dash_{os.getpid()}_{next(_names)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    try:
        yield make_conninfo(**params)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(database_url: str, site_id: str) -> World:
    """The demo estate with one login per role (random passwords), and a second site nobody here may see."""
    from propwatch.seed import seed_demo
    from simulators.estate import demo_estate

    layout = demo_estate(site_id, buildings=1)
    with connect(database_url) as conn:
        logins = seed_demo(conn, layout)
        registry.upsert_site(conn, registry.Site(OTHER_SITE, "别的小区"))
        registry.upsert_device(conn, registry.Device("OTHER-EL01", OTHER_SITE, "elevator", "other lift"))
        create_user(conn, username="outsider", password=OUTSIDER_PASSWORD, role="operator",
                    display_name="Other estate operator", site_ids=[OTHER_SITE])
        crew = conn.execute("SELECT crew_member_id FROM web_users WHERE role = 'crew'").fetchone()
        conn.commit()
    elevator = next(d for d in layout.devices if d.type == "elevator")
    return World(database_url, site_id, layout.buildings[0].id, elevator.id,
                 {login.role: (login.username, login.password) for login in logins}, crew[0] if crew else "")


def raise_trapped_alarm(world: World, *, at: datetime | None = None) -> int:
    """A `trapped` event through the rules engine's public API; returns the alarm id."""
    from rules.alarms import list_alarms
    from rules.engine import RuleEngine

    now = at or datetime.now(UTC)
    engine = RuleEngine(world.database_url)
    try:
        engine.process(Batch(events=[DeviceEvent(world.elevator_id, now, "trapped", seq=1)]), now=now)
    finally:
        engine.close()
    with connect(world.database_url) as conn:
        found = list_alarms(conn, device_id=world.elevator_id, states=["active"])
    assert found, "the rules engine raised no alarm for a trapped event"
    world.alarm_id = found[0].id
    return found[0].id


def open_order_from_alarms(world: World) -> int:
    """Let dispatch turn the alarm transitions into a work order (what the pipeline's dispatch worker does)."""
    from dispatch.alarm_sync import sync_alarms
    from dispatch.workorders import list_work_orders

    with connect(world.database_url) as conn:
        sync_alarms(conn)
        conn.commit()
        orders = list_work_orders(conn, site_id=world.site_id, limit=10, offset=0)
    assert orders, "dispatch opened no work order"
    world.order_id = orders[0].id
    return orders[0].id


def on_site(world: World, order_id: int) -> None:
    """The seeded crew member takes the order if nobody has and reports on site (a fund draw needs a repair
    assessed there)."""
    from dispatch.workorders import accept, get_work_order, transition

    with connect(world.database_url) as conn:
        order = get_work_order(conn, order_id)
        if order.state in ("NEW", "ACKED"):
            order = accept(conn, order_id, world.crew_member_id)
        if order.state in ("DISPATCHED", "EN_ROUTE"):
            transition(conn, order_id, "ON_SITE", actor=f"crew:{world.crew_member_id}")
        conn.commit()


def verify_repair(world: World, order_id: int, cost: str) -> None:
    """The crew resolves the order on site recording ``cost`` as labour; the operator verifies the repair."""
    from dispatch.workorders import transition

    on_site(world, order_id)
    with connect(world.database_url) as conn:
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}", cost=Decimal(cost))
        transition(conn, order_id, "VERIFIED", actor="operator")
        conn.commit()


def open_emergency_draw(world: World, *, estimate: str = "8600.00", order_id: int | None = None) -> int:
    """An emergency fund draw for the elevator repair of the world's work order, the crew on site first."""
    from dispatch.fund import draws

    wanted = order_id or world.order_id
    on_site(world, wanted)
    with connect(world.database_url) as conn:
        draw = draws.open_emergency_draw(
            conn, site_id=world.site_id, work_order_id=wanted,
            item="1号楼1号电梯困人故障抢修 门机更换 (door operator replacement)", fund_category="elevator",
            contractor="某电梯维保有限公司", scope_type="building", scope_id=world.building_id,
            estimate=Decimal(estimate), actor="operator")
        conn.commit()
    if order_id is None:
        world.draw_id = draw.id
    return draw.id


def crew_accepts(world: World, order_id: int | None = None) -> None:
    """The seeded crew member takes the work order (the world's by default)."""
    from dispatch.workorders import accept

    with connect(world.database_url) as conn:
        accept(conn, order_id or world.order_id, world.crew_member_id)
        conn.commit()
