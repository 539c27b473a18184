"""The alarm console and one alarm's page (issue 21: ISA-18.2 style)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import translate
from dashboard.security import Conn
from dashboard.ui import alarm_detail
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from ingest import registry
from rules import alarms
from rules.categories import categories

router = APIRouter(include_in_schema=False)


@router.get("/console")
def console(request: Request, conn: Conn,
            user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    """The alarm console; its rows load from the API (``console=true``) and follow the event stream."""
    sites = [site for site in registry.list_sites(conn) if user.sees_site(site.id)]
    english = lang_of(request) == "en"
    names = {c.id: c.en if english else c.zh for c in categories().values()}
    return render(request, "console.html", user, page="console", sites=sites, categories=list(categories().values()),
                  category_names=names, zones={site.id: site.timezone for site in sites})


@router.get("/alarms/{alarm_id}")
def alarm_page(alarm_id: int, request: Request, conn: Conn,
               user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    """One alarm: where, its timeline, the device's readings around it, its work order and the actions."""
    alarm = alarms.get_alarm(conn, alarm_id)
    if alarm is None:
        raise ApiError(404, "not_found", translate("alarm_not_found", lang_of(request)))
    if not user.sees_site(alarm.site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    category = categories().get(alarm.category)
    category_name = (category.en if lang_of(request) == "en" else category.zh) if category else alarm.category
    return render(request, "alarm.html", user, page="console", category_name=category_name,
                  view=alarm_detail.alarm_page(conn, alarm, user, now=datetime.now(UTC),
                                               english=lang_of(request) == "en"))
