"""One order as the people handling it need it: where it is, what it cost, its photos and its full timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

from dispatch.workorders import queries
from dispatch.workorders.model import CENT, WorkOrder, WorkOrderEvent
from dispatch.workorders.photos import Photo, list_photos
from ingest.registry import get_device, get_site, list_buildings


@dataclass(frozen=True)
class Location:
    """Where the order is: estate, building, stairwell unit (单元), floor, device and the address as reported."""

    site_id: str
    site_name: str | None
    building_id: str | None
    building_name: str | None
    building_unit: str | None
    floor: str | None
    device_id: str | None
    device_name: str | None
    address: str | None


@dataclass(frozen=True)
class PartUsed:
    """A part recorded on one event of the order: quantity × unit cost = amount."""

    name: str
    quantity: Decimal
    unit_cost: Decimal
    amount: Decimal
    at: datetime
    actor: str


@dataclass(frozen=True)
class Costs:
    """Labour and parts over all the order's events; ``total`` equals the order's ``cost_total``."""

    labour: Decimal
    parts: Decimal
    total: Decimal
    items: list[PartUsed]


@dataclass(frozen=True)
class OrderDetail:
    """The order with its place, costs, photos and every event (transitions, offers, assignments, escalations,
    alarms, photos, 12345 records), oldest first."""

    order: WorkOrder
    location: Location
    costs: Costs
    photos: list[Photo]
    timeline: list[WorkOrderEvent]


def order_detail(conn: psycopg.Connection, order_id: int) -> OrderDetail:
    """Everything about one order. Raises ``WorkOrderNotFound``."""
    order = queries.fetch(conn, order_id)
    timeline = queries.events(conn, order_id)
    return OrderDetail(order, location(conn, order), costs(timeline), list_photos(conn, order_id), timeline)


def location(conn: psycopg.Connection, order: WorkOrder) -> Location:
    """The order's place with the registry's names."""
    site = get_site(conn, order.site_id)
    building = next((b for b in list_buildings(conn, site_id=order.site_id) if b.id == order.building_id), None)
    device = get_device(conn, order.device_id) if order.device_id else None
    return Location(
        site_id=order.site_id, site_name=site.name if site else None, building_id=order.building_id,
        building_name=building.name if building else None, building_unit=order.building_unit, floor=order.floor,
        device_id=order.device_id, device_name=device.name if device else None, address=order.address,
    )


def costs(timeline: list[WorkOrderEvent]) -> Costs:
    """Labour and parts of an order from its events."""
    labour = sum((e.labour_cost or Decimal(0) for e in timeline), Decimal(0)).quantize(CENT)
    parts = sum((e.parts_cost for e in timeline), Decimal(0)).quantize(CENT)
    items = [
        PartUsed(name=p["name"], quantity=Decimal(p["quantity"]), unit_cost=Decimal(p["unit_cost"]),
                 amount=(Decimal(p["quantity"]) * Decimal(p["unit_cost"])).quantize(CENT), at=e.at, actor=e.actor)
        for e in timeline for p in e.parts
    ]
    return Costs(labour=labour, parts=parts, total=labour + parts, items=items)
