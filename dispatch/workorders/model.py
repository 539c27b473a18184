"""The work-order records callers receive and give: an order, one entry of its history, what opens one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass(frozen=True)
class WorkOrder:
    """One work order. ``due`` maps SLA steps (ack, dispatch, arrive, resolve) to deadlines;
    ``cost_total`` is labour plus parts over all its events. ``building_unit`` (单元) and ``floor`` place a
    complaint inside its building; ``reporter_user`` is the web user who filed it when an owner did. ``title`` is
    the zh-CN title (or a person's words as written) and ``title_en`` the English one where the system wrote the
    title (``None`` where a person did)."""

    id: int
    number: str
    site_id: str
    building_id: str | None
    device_id: str | None
    category: str
    severity: str
    origin: str
    state: str
    title: str
    unit_id: str
    assignee_id: str | None
    created_at: datetime
    acked_at: datetime | None
    dispatched_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due: dict[str, datetime]
    escalation_level: int
    emergency: bool
    fund_category: str | None
    gov_code: str
    component: str = ""
    en_route_at: datetime | None = None
    description: str | None = None
    address: str | None = None
    reporter_contact: str | None = None
    repeat_of: int | None = None
    incident_key: str | None = None
    alarm_id: int | None = None
    offered_to: str | None = None
    offer_expires_at: datetime | None = None
    platform_dispatch: bool = False
    cost_total: Decimal = Decimal("0.00")
    responsibility_version: int | None = None
    building_unit: str | None = None
    floor: str | None = None
    reporter_user: str | None = None
    title_en: str | None = None


@dataclass(frozen=True)
class WorkOrderEvent:
    """One append-only entry of an order's history: a transition, an attached alarm, an offer, an escalation."""

    id: int
    order_id: int
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    note: str | None
    labour_cost: Decimal | None
    parts: list[dict[str, Any]]
    parts_cost: Decimal
    photo_ids: list[int]
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewOrder:
    """What an intake path (alarm, report, hotline, schedule) knows when it opens an order: ``title`` in zh-CN
    and, where the system words it, ``title_en`` in English."""

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
    building_unit: str | None = None
    floor: str | None = None
    reporter_user: str | None = None
    title_en: str | None = None


@dataclass(frozen=True)
class Routing:
    """How an order is routed, copied from its list item when it was opened: the crew skill it needs, how long
    an offer stands, the escalation chain (units per level) and the breach actions per SLA step."""

    skill: str
    accept_timeout: timedelta
    escalation: list[list[str]]
    on_breach: dict[str, str]
