"""The estate overview and device pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import translate
from dashboard.security import Conn
from dashboard.ui import charts
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from gateway import presence
from ingest import history, registry
from rules import alarms

router = APIRouter(include_in_schema=False)


OPEN_ALARM_STATES = (alarms.PENDING, alarms.ACTIVE, alarms.ACKNOWLEDGED)

@router.get("/estate")
def estate(request: Request, conn: Conn,
           user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    rows = []
    for site in registry.list_sites(conn):
        if not user.sees_site(site.id):
            continue
        _, open_alarms = alarms.page_alarms(conn, sites=[site.id], states=OPEN_ALARM_STATES, limit=1, offset=0)
        rows.append({"site": site, "buildings": registry.list_buildings(conn, site_id=site.id),
                     "devices": registry.list_devices(conn, site_id=site.id), "open_alarms": open_alarms,
                     "presence": {p.device_id: p.status for p in presence.list_presence(conn, site.id)}})
    return render(request, "estate.html", user, page="estate", rows=rows)


@router.get("/devices/{device_id}")
def device_page(device_id: str, request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    device = registry.get_device(conn, device_id)
    if device is None:
        raise ApiError(404, "not_found", f"device {device_id} not found")
    if not user.sees_site(device.site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    latest = {metric: {"ts": ts, "value": value} for metric, (ts, value) in history.latest(conn, device_id).items()}
    end = datetime.now(UTC)
    start = end - timedelta(hours=6)
    chart_svgs = []
    for metric in list(latest)[:8]:
        buckets = history.rollup(conn, device_id, metric, start, end, bucket=timedelta(minutes=1))
        chart_svgs.append({"metric": metric, "svg": charts.line_chart([(b.bucket, b.avg) for b in buckets],
                                                                      label=metric)})
    return render(request, "device.html", user, page="estate", device=device, latest=latest, charts=chart_svgs)
