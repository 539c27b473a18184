"""The estate registry and device history: sites, buildings, devices, latest values, raw or rolled-up series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Page, Pagination, dependency, pagination, plain
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from ingest import registry

router = APIRouter(prefix="/api/v1", tags=["estate"])
READERS = ("admin", "operator", "subdistrict")


class SiteOut(BaseModel):
    id: str
    name: str
    name_en: str | None = None
    region: str
    address: str | None = None
    timezone: str


class BuildingOut(BaseModel):
    id: str
    site_id: str
    name: str
    floors: int | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    site_id: str
    building_id: str | None = None
    type: str
    name: str
    model: str | None = None


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


def visible_sites(conn: Conn, user: User) -> list[registry.Site]:
    """The sites a user may see."""
    return [s for s in registry.list_sites(conn) if user.sees_site(s.id)]


@router.get("/sites", response_model=Page[SiteOut], summary="Sites in your scope")
def sites(conn: Conn, user: Annotated[User, Depends(require(*READERS))],
          page: Annotated[Pagination, Depends(pagination)]) -> Page[SiteOut]:
    """Ordered by id."""
    found = visible_sites(conn, user)
    chunk = found[page.offset: page.offset + page.limit]
    return Page[SiteOut](items=[SiteOut(**plain(s)) for s in chunk], total=len(found), limit=page.limit,
                         offset=page.offset)


@router.get("/sites/{site_id}/buildings", response_model=list[BuildingOut], summary="Buildings of a site")
def buildings(site_id: str, conn: Conn, user: Annotated[User, Depends(require(*READERS))]) -> list[BuildingOut]:
    """403 outside your scope."""
    check_site(user, site_id)
    return [BuildingOut(**plain(b)) for b in registry.list_buildings(conn, site_id=site_id)]


@router.get("/devices", response_model=Page[DeviceOut], summary="Devices in your scope")
def devices(conn: Conn, user: Annotated[User, Depends(require(*READERS))],
            page: Annotated[Pagination, Depends(pagination)],
            site_id: Annotated[str | None, Query(max_length=64)] = None,
            type: Annotated[str | None, Query(max_length=64)] = None) -> Page[DeviceOut]:
    """Filtered by site and device type."""
    wanted = scope_site(user, site_id)
    found = [d for d in registry.list_devices(conn) if (wanted is None or d.site_id in wanted)
             and (type is None or d.type == type)]
    chunk = found[page.offset: page.offset + page.limit]
    return Page[DeviceOut](items=[DeviceOut(**plain(d)) for d in chunk], total=len(found), limit=page.limit,
                           offset=page.offset)


def device_or_404(conn: Conn, user: User, device_id: str) -> registry.Device:
    device = registry.get_device(conn, device_id)
    if device is None:
        raise not_found("device", device_id)
    check_site(user, device.site_id)
    return device


@router.get("/devices/{device_id}", response_model=DeviceOut, summary="One device")
def device(device_id: str, conn: Conn, user: Annotated[User, Depends(require(*READERS))]) -> DeviceOut:
    return DeviceOut(**plain(device_or_404(conn, user, device_id)))


@router.get("/devices/{device_id}/latest", summary="Latest value of every metric of a device")
def latest(device_id: str, conn: Conn, user: Annotated[User, Depends(require(*READERS))]) -> dict[str, Any]:
    """``{"device_id", "values": {metric: {"value", "ts"}}}``."""
    device_or_404(conn, user, device_id)
    history = dependency("ingest.history")
    values = history.latest(conn, device_id)
    return {"device_id": device_id,
            "values": {metric: {"ts": ts.isoformat(), "value": value} for metric, (ts, value) in values.items()}}


@router.get("/devices/{device_id}/history", response_model=Series, summary="History of one metric")
def series(
    device_id: str,
    conn: Conn,
    user: Annotated[User, Depends(require(*READERS))],
    metric: Annotated[str, Query(min_length=1, max_length=64)],
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Annotated[Literal["raw", "1m", "1h"], Query()] = "1m",
) -> Series:
    """Raw points or 1-minute / 1-hour rollups (avg, min, max) between ``start`` and ``end`` (default: last 6 h)."""
    device_or_404(conn, user, device_id)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=6)
    if start.tzinfo is None or end.tzinfo is None:
        raise ApiError(422, "invalid", "start and end need a time zone")
    if end <= start or end - start > timedelta(days=400):
        raise ApiError(422, "invalid", "need start < end within 400 days")
    history = dependency("ingest.history")
    try:
        if resolution == "raw":
            points = [Point(ts=p.ts, value=p.value) for p in history.raw_points(conn, device_id, metric, start, end)]
        else:
            size = timedelta(minutes=1) if resolution == "1m" else timedelta(hours=1)
            points = [Point(ts=b.bucket, value=b.avg, min=b.min, max=b.max)
                      for b in history.rollup(conn, device_id, metric, start, end, bucket=size)]
    except history.HistoryError as exc:
        raise ApiError(422, "invalid", str(exc), {"reason": type(exc).__name__}) from exc
    return Series(device_id=device_id, metric=metric, resolution=resolution, points=points)
