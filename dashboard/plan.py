"""The estate plan: each estate drawn from the registry as buildings with their devices inside and the
estate-level rooms (fire control room, pump room, sump) beside them, each coloured by its worst open alarm.

Positions come from a generated layout unless an admin moved the item (``web_plan_positions``); a device inside
a building is placed relative to the building. Coordinates are SVG user units of a plan ``WIDTH`` wide.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import psycopg

from gateway import presence
from gateway.protocol.catalog import catalog
from ingest import history, registry
from rules import alarms

Kind = Literal["building", "device"]
OPEN_STATES = (alarms.PENDING, alarms.ACTIVE, alarms.ACKNOWLEDGED)
WIDTH = 1000
BUILDING_W, BUILDING_H, ROOM_W, ROOM_H, GAP = 220, 170, 190, 90, 30
PER_ROW = 4
DEVICES_PER_ROW = 3
# Open alarms read per estate to colour its plan: the worst come first, so a cap only drops the mildest.
ALARM_CAP = 2000


class UnknownItem(LookupError):
    """No building or device of that id in the estate."""


@dataclass(frozen=True)
class Item:
    """One thing on the plan. ``severity`` is the worst open alarm (``P0``…``P3``), ``offline`` for a device
    the gateway reports offline, else ``ok``; ``alarm_id`` is that worst alarm, ``alarms`` how many are open and
    ``by_severity`` how many of each severity (``{"P0": 1, "P1": 1}``), which its badge spells out. ``states`` are
    a device's latest state codes (metrics the catalogue names the codes of), which the page shows by name in its
    tooltip."""

    kind: Kind
    id: str
    name: str
    type: str | None
    building_id: str | None
    x: float
    y: float
    width: float
    height: float
    severity: str
    alarm_id: int | None
    alarms: int
    moved: bool
    states: dict[str, float] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    site_id: str
    width: float
    height: float
    items: list[Item]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _positions(conn: psycopg.Connection, site_id: str) -> dict[tuple[str, str], tuple[float, float]]:
    rows = conn.execute("SELECT kind, item_id, x, y FROM web_plan_positions WHERE site_id = %s", (site_id,))
    return {(kind, item_id): (x, y) for kind, item_id, x, y in rows}


def _worst(found: list[alarms.Alarm]) -> tuple[dict[str, alarms.Alarm], dict[str, dict[str, int]]]:
    """The worst open alarm per device and per building (alarms are most severe first), and how many of each
    severity each has, most severe first."""
    worst: dict[str, alarms.Alarm] = {}
    counts: dict[str, dict[str, int]] = {}
    for alarm in found:
        for key in {alarm.device_id, alarm.building_id} - {None}:
            worst.setdefault(key, alarm)
            per = counts.setdefault(key, {})
            per[alarm.severity] = per.get(alarm.severity, 0) + 1
    return worst, counts


def device_states(conn: psycopg.Connection, device: registry.Device) -> dict[str, float]:
    """The device's latest value of each metric whose codes the catalogue names (运行方向, 门状态, 服务模式)."""
    kind = catalog().get(device.type)
    labelled = {name for name, spec in kind.metrics.items() if spec.values} if kind else set()
    if not labelled:
        return {}
    return {metric: value for metric, (_, value) in history.latest(conn, device.id).items() if metric in labelled}


def site_plan(conn: psycopg.Connection, site_id: str) -> Plan:
    """The plan of one estate as it stands now."""
    buildings = registry.list_buildings(conn, site_id=site_id)
    devices = registry.list_devices(conn, site_id=site_id)
    moved = _positions(conn, site_id)
    worst, counts = _worst(alarms.list_alarms(conn, states=OPEN_STATES, site_id=site_id, limit=ALARM_CAP))
    offline = {p.device_id for p in presence.list_presence(conn, site_id) if p.status == "offline"}
    known = {b.id for b in buildings}

    def state(key: str, is_offline: bool = False) -> tuple[str, int | None, int]:
        alarm = worst.get(key)
        if alarm:
            return alarm.severity, alarm.id, sum(counts[key].values())
        return ("offline" if is_offline else "ok"), None, 0

    def place(kind: Kind, item_id: str, default: tuple[float, float]) -> tuple[float, float, bool]:
        x, y = moved.get((kind, item_id), default)
        return x, y, (kind, item_id) in moved

    items: list[Item] = []
    for n, building in enumerate(buildings):
        x, y, was_moved = place("building", building.id, (GAP + n % PER_ROW * (BUILDING_W + GAP),
                                                          GAP + n // PER_ROW * (BUILDING_H + GAP)))
        items.append(Item("building", building.id, building.name, None, None, x, y, BUILDING_W, BUILDING_H,
                          *state(building.id), was_moved, by_severity=counts.get(building.id, {})))
    inside = [d for d in devices if d.building_id in known]
    for building in buildings:
        for k, device in enumerate(d for d in inside if d.building_id == building.id):
            default = (40 + k % DEVICES_PER_ROW * 70, 78 + k // DEVICES_PER_ROW * 60)
            x, y, was_moved = place("device", device.id, default)
            items.append(Item("device", device.id, device.name, device.type, building.id, x, y, 0, 0,
                              *state(device.id, device.id in offline), was_moved, device_states(conn, device),
                              counts.get(device.id, {})))
    rooms_top = GAP + -(-len(buildings) // PER_ROW) * (BUILDING_H + GAP)
    for k, device in enumerate(d for d in devices if d.building_id not in known):
        x, y, was_moved = place("device", device.id, (GAP + k % PER_ROW * (ROOM_W + GAP),
                                                      rooms_top + k // PER_ROW * (ROOM_H + GAP)))
        items.append(Item("device", device.id, device.name, device.type, None, x, y, ROOM_W, ROOM_H,
                          *state(device.id, device.id in offline), was_moved, device_states(conn, device),
                          counts.get(device.id, {})))
    bottom = max([i.y + max(i.height, 40) for i in items if i.building_id is None], default=0)
    return Plan(site_id, WIDTH, max(bottom + GAP, 240), items)


def move(conn: psycopg.Connection, site_id: str, kind: Kind, item_id: str, x: float, y: float, *,
         actor: str) -> None:
    """Keep where ``actor`` put a building or device of the estate; ``UnknownItem`` when it has none."""
    if kind == "building":
        exists = any(b.id == item_id for b in registry.list_buildings(conn, site_id=site_id))
    else:
        device = registry.get_device(conn, item_id)
        exists = device is not None and device.site_id == site_id
    if not exists:
        raise UnknownItem(f"{kind} {item_id} is not in estate {site_id}")
    conn.execute(
        """INSERT INTO web_plan_positions (site_id, kind, item_id, x, y, moved_by) VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (site_id, kind, item_id) DO UPDATE
           SET x = excluded.x, y = excluded.y, moved_by = excluded.moved_by, moved_at = now()""",
        (site_id, kind, item_id, x, y, actor))
