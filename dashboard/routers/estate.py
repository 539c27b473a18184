"""The estate registry and device history: sites, buildings, devices, latest values, raw or rolled-up series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, plan, roles
from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from ingest import history, registry

router = APIRouter(prefix="/api/v1", tags=["estate"])


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    name_en: str | None = None
    region: str
    address: str | None = None
    timezone: str


class BuildingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site_id: str
    name: str
    floors: int | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site_id: str
    building_id: str | None = None
    type: str
    name: str
    model: str | None = None


class LatestValue(BaseModel):
    ts: datetime
    value: float


class Latest(BaseModel):
    device_id: str
    values: dict[str, LatestValue]


class Point(BaseModel):
    ts: datetime
    value: float | None = None
    min: float | None = None
    max: float | None = None


class Series(BaseModel):
    device_id: str
    metric: str
    resolution: str
    points: list[Point]


@router.get("/sites", response_model=Page[SiteOut], summary="Sites in your scope")
def sites(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
          page: Annotated[Pagination, Depends(pagination)]) -> Page[SiteOut]:
    """Ordered by id."""
    found, total = registry.page_sites(conn, sites=scope_site(user, None), limit=page.limit, offset=page.offset)
    return Page[SiteOut](items=[SiteOut.model_validate(s) for s in found], total=total, limit=page.limit,
                         offset=page.offset)


@router.get("/sites/{site_id}/buildings", response_model=list[BuildingOut], summary="Buildings of a site")
def buildings(site_id: str, conn: Conn,
              user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[BuildingOut]:
    """403 outside your scope."""
    check_site(user, site_id)
    return [BuildingOut.model_validate(b) for b in registry.list_buildings(conn, site_id=site_id)]


@router.get("/devices", response_model=Page[DeviceOut], summary="Devices in your scope")
def devices(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
            page: Annotated[Pagination, Depends(pagination)],
            site_id: Annotated[str | None, Query(max_length=64)] = None,
            type: Annotated[str | None, Query(max_length=64)] = None) -> Page[DeviceOut]:
    """Ordered by id, filtered by site and device type."""
    found, total = registry.page_devices(conn, sites=scope_site(user, site_id), type=type, limit=page.limit,
                                         offset=page.offset)
    return Page[DeviceOut](items=[DeviceOut.model_validate(d) for d in found], total=total, limit=page.limit,
                           offset=page.offset)


def device_or_404(conn: Conn, user: User, device_id: str) -> registry.Device:
    """The device, 404 when unknown, 403 outside your sites."""
    device = registry.get_device(conn, device_id)
    if device is None:
        raise not_found("device", device_id)
    check_site(user, device.site_id)
    return device


@router.get("/devices/{device_id}", response_model=DeviceOut, summary="One device")
def device(device_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> DeviceOut:
    return DeviceOut.model_validate(device_or_404(conn, user, device_id))


@router.get("/devices/{device_id}/latest", response_model=Latest, summary="Latest value of every metric of a device")
def latest(device_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> Latest:
    """``{"device_id", "values": {metric: {"value", "ts"}}}``."""
    device_or_404(conn, user, device_id)
    values = history.latest(conn, device_id)
    return Latest(device_id=device_id,
                  values={metric: LatestValue(ts=ts, value=value) for metric, (ts, value) in values.items()})


@router.get("/devices/{device_id}/history", response_model=Series, summary="History of one metric")
def series(
    device_id: str,
    conn: Conn,
    user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
    metric: Annotated[str, Query(min_length=1, max_length=64)],
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Annotated[Literal["raw", "1m", "1h"], Query()] = "1m",
) -> Series:
    """Raw points or 1-minute / 1-hour rollups (avg, min, max) between ``start`` and ``end`` (default: last 6 h);
    422 when the range holds too many points."""
    device_or_404(conn, user, device_id)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=6)
    if start.tzinfo is None or end.tzinfo is None:
        raise ApiError(422, "invalid", "start and end need a time zone")
    if end <= start or end - start > timedelta(days=400):
        raise ApiError(422, "invalid", "need start < end within 400 days")
    if resolution == "raw":
        points = [Point(ts=p.ts, value=p.value) for p in history.raw_points(conn, device_id, metric, start, end)]
    else:
        size = timedelta(minutes=1) if resolution == "1m" else timedelta(hours=1)
        points = [Point(ts=b.bucket, value=b.avg, min=b.min, max=b.max)
                  for b in history.rollup(conn, device_id, metric, start, end, bucket=size)]
    return Series(device_id=device_id, metric=metric, resolution=resolution, points=points)


class PlanItemOut(BaseModel):
    kind: Literal["building", "device"]
    id: str
    name: str
    type: str | None = None
    building_id: str | None = None
    x: float
    y: float
    width: float
    height: float
    severity: str
    alarm_id: int | None = None
    alarms: int
    moved: bool
    states: dict[str, float] = Field(default_factory=dict, description="a device's latest state codes by metric")
    by_severity: dict[str, int] = Field(default_factory=dict, description="open alarms per severity, P0 first")


class PlanOut(BaseModel):
    site_id: str
    width: float
    height: float
    items: list[PlanItemOut]


class PlanMove(BaseModel):
    x: Annotated[float, Field(ge=0, le=plan.WIDTH * 4)]
    y: Annotated[float, Field(ge=0, le=plan.WIDTH * 4)]


@router.get("/sites/{site_id}/plan", response_model=PlanOut, summary="The estate plan with alarm states")
def site_plan(site_id: str, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> PlanOut:
    """Buildings, devices and estate-level rooms with positions and each one's worst open alarm; 403 outside
    your scope, 404 for an unknown site."""
    check_site(user, site_id)
    if registry.get_site(conn, site_id) is None:
        raise not_found("site", site_id)
    return PlanOut.model_validate(plan.site_plan(conn, site_id).as_json())


def _move(conn: Conn, user: User, site_id: str, kind: plan.Kind, item_id: str, body: PlanMove) -> PlanOut:
    check_site(user, site_id)
    try:
        plan.move(conn, site_id, kind, item_id, body.x, body.y, actor=user.username)
    except plan.UnknownItem:
        raise not_found(kind, item_id) from None
    audit.record(conn, user, "plan.move", kind, item_id, site_id=site_id, detail={"x": body.x, "y": body.y})
    return PlanOut.model_validate(plan.site_plan(conn, site_id).as_json())


@router.put("/sites/{site_id}/plan/buildings/{building_id}", response_model=PlanOut,
            summary="Move a building on the estate plan")
def move_building(site_id: str, building_id: str, body: PlanMove, conn: Conn,
                  user: Annotated[User, Depends(require(roles.ADMINS))]) -> PlanOut:
    """Keep where an admin put the building (its devices move with it); 404 for a building not in the estate.
    Audited as ``plan.move``."""
    return _move(conn, user, site_id, "building", building_id, body)


@router.put("/sites/{site_id}/plan/devices/{device_id}", response_model=PlanOut,
            summary="Move a device on the estate plan")
def move_device(site_id: str, device_id: str, body: PlanMove, conn: Conn,
                user: Annotated[User, Depends(require(roles.ADMINS))]) -> PlanOut:
    """Keep where an admin put the device (inside a building: relative to the building); 404 for a device not
    in the estate. Audited as ``plan.move``."""
    return _move(conn, user, site_id, "device", device_id, body)
