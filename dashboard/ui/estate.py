"""The estate overview and device pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import plan, roles
from dashboard.errors import ApiError
from dashboard.i18n import STRINGS, site_name, translate
from dashboard.security import Conn
from dashboard.ui import charts, vendor
from dashboard.ui.alarm_detail import local_time
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from gateway import presence
from gateway.protocol.catalog import catalog
from ingest import history, registry
from rules import alarms

router = APIRouter(include_in_schema=False)
router.include_router(vendor.router)


OPEN_ALARM_STATES = (alarms.PENDING, alarms.ACTIVE, alarms.ACKNOWLEDGED)


def named(prefix: str, code: str, lang: str) -> str:
    """The reader's name of a code (a device type, a presence status) from the UI string ``prefix + code``; the
    code itself when it is newer than the strings, so a new kind of device still shows."""
    key = prefix + code
    return translate(key, lang) if key in STRINGS else code


@router.get("/estate")
def estate(request: Request, conn: Conn,
           user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    """Each estate in the user's scope as a plan coloured by alarm state (static/js/estate_plan.js), with its
    device list; admins move buildings and devices on it."""
    rows = []
    for site in registry.list_sites(conn):
        if not user.sees_site(site.id):
            continue
        site_plan = plan.site_plan(conn, site.id)
        _, open_alarms = alarms.page_alarms(conn, sites=[site.id], states=OPEN_ALARM_STATES, limit=1, offset=0)
        rows.append({"site": site, "plan": site_plan.as_json(),
                     "buildings": [i for i in site_plan.items if i.kind == "building"],
                     "devices": registry.list_devices(conn, site_id=site.id),
                     "open_alarms": open_alarms,
                     "presence": {p.device_id: p.status for p in presence.list_presence(conn, site.id)}})
    lang = lang_of(request)
    return render(request, "estate.html", user, page="estate", rows=rows, editable=user.role in roles.ADMINS,
                  kind_name=lambda code: named("dev_kind_", code, lang),
                  presence_name=lambda code: named("dev_presence_", code, lang),
                  site_name=lambda site: site_name(site, lang), state_names=state_names(lang))


def state_names(lang: str) -> dict[str, dict[str, Any]]:
    """Every state metric of the catalogue with its name and the label of each code, in ``lang``: the plan's
    tooltips say 运行方向 上行 from the codes the plan API gives."""
    found: dict[str, dict[str, Any]] = {}
    for kind in catalog().values():
        for metric, spec in kind.metrics.items():
            if spec.values:
                found[metric] = {"name": charts.metric_name(metric, lang),
                                 "values": {str(code): label for code, label in charts.value_labels(spec, lang)}}
    return found


@router.get("/devices/{device_id}")
def device_page(device_id: str, request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    """The device's latest values, open alarms and a chart of every metric (drawn by static/js/device.js)."""
    device = registry.get_device(conn, device_id)
    if device is None:
        raise ApiError(404, "not_found", f"device {device_id} not found")
    if not user.sees_site(device.site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    lang = lang_of(request)
    zone = registry.site_timezone(conn, device.site_id)
    latest = history.latest(conn, device_id)
    # Metrics the device has never reported get no empty chart, only a mention.
    every_metric = charts.metric_charts(conn, device, list(latest), lang)
    metric_charts = [c for c in every_metric if c.metric in latest]
    silent = [c.name for c in every_metric if c.metric not in latest]
    rows = [{"chart": c, "value": latest[c.metric][1], "label": dict(c.labels).get(latest[c.metric][1]),
             "at": local_time(latest[c.metric][0], zone)} for c in metric_charts]
    site = registry.get_site(conn, device.site_id)
    building = next((b for b in registry.list_buildings(conn, site_id=device.site_id) if b.id == device.building_id),
                    None)
    open_alarms, _ = alarms.page_alarms(conn, sites=[device.site_id], states=OPEN_ALARM_STATES, device_id=device_id,
                                        limit=20, offset=0)
    # Without a range in the address, the page opens on the shortest range holding the device's readings.
    opening = charts.default_range(history.first_reading(conn, device_id), datetime.now(UTC))
    wanted = request.query_params.get("range", opening)
    config = {"device_id": device_id, "zone": str(zone), "range": wanted if wanted in charts.RANGES else opening,
              "ranges": {name: [span.total_seconds(), resolution]
                         for name, (span, resolution) in charts.RANGES.items()},
              "fine_zoom_s": charts.FINE_ZOOM.total_seconds(), "charts": [c.as_json() for c in metric_charts]}
    return render(request, "device.html", user, page="estate", device=device, rows=rows, alarms=open_alarms,
                  config=config, ranges=list(charts.RANGES), zone=str(zone), silent=silent,
                  site_name=site_name(site, lang) if site else device.site_id, building=building,
                  kind_name=named("dev_kind_", device.type, lang))
