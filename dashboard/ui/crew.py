"""The crew app, phone-sized: my unit's orders, and one order with its place, procedure and next step.

The pages carry what the order API does not: the estate's names and time zones, the categories' names, and the
procedure (SOP) the responsibility list gives the order's category. Everything else loads from the API.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import translate
from dashboard.routers.work_orders import visible
from dashboard.security import Conn
from dashboard.strings.crew import STRINGS
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.ui.work_orders import refusal_strings
from dashboard.users import User
from dispatch import responsibility
from dispatch.errors import ResponsibilityNotFound
from dispatch.workorders import WorkOrder, get_work_order
from ingest import registry
from rules.categories import categories

router = APIRouter(include_in_schema=False)

# Shared strings the crew scripts use besides their own.
_SHARED_FOR_JS = ("site", "building", "device", "photo", "wo_span_s", "wo_span_ms", "wo_span_hm", "wo_span_dh",
                  "st_pending", "st_active", "st_acknowledged", "st_cleared", "wo_note_alarm_acknowledged")

# The list writes each SOP as Chinese steps with an English gloss in parentheses:
# "停梯、设置警示，维保单位到场排查 (stop the lift, cordon, inspect)".
_GLOSS = re.compile(r"^(?P<zh>.*?)\s*\((?P<en>[^()]*)\)\s*$", re.S)
# Steps end at a comma or semicolon; 、 joins the parts of one step and stays.
_STEP_END = re.compile(r"\s*[，,；;。]\s*")


def procedure_steps(sop: str, lang: str) -> list[str]:
    """The SOP as checklist steps in ``lang``: the English gloss when there is one and English is asked for."""
    glossed = _GLOSS.match(sop)
    text = sop
    if glossed:
        text = glossed["en"] if lang == "en" and glossed["en"].strip() else glossed["zh"]
    return [step for step in _STEP_END.split(text.strip()) if step]


def _sop(conn: Conn, order: WorkOrder) -> str | None:
    """The procedure the current responsibility list gives this order's category at its place."""
    component = order.component or responsibility.ANY
    try:
        return responsibility.lookup(conn, category=order.category, component=component, site_id=order.site_id,
                                     building_id=order.building_id).sop
    except ResponsibilityNotFound:
        return None


def _js_strings(lang: str) -> dict[str, str]:
    """The strings the crew scripts show, in ``lang``."""
    return {key: translate(key, lang) for key in (*STRINGS, *_SHARED_FOR_JS)} | refusal_strings(lang)


def _places(conn: Conn, user: User, english: bool) -> dict[str, object]:
    """Names and time zones of the user's estates and their buildings, for labelling orders in the list."""
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    return {
        "sites": {s.id: (s.name_en or s.name) if english else s.name for s in sites},
        "zones": {s.id: s.timezone for s in sites},
        "buildings": {b.id: b.name for s in sites for b in registry.list_buildings(conn, site_id=s.id)},
        "categories": {c.id: c.en if english else c.zh for c in categories().values()},
    }


@router.get("/crew")
def crew(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    """My unit's open orders, offers to me first, live; what was closed today."""
    lang = lang_of(request)
    return render(request, "crew.html", user, page="crew", strings=_js_strings(lang),
                  places=_places(conn, user, lang == "en"))


@router.get("/crew/orders/{order_id}")
def crew_order(order_id: int, request: Request, conn: Conn,
               user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    """One order: where, what, the procedure as a checklist, due times, the next step, photos, history."""
    lang = lang_of(request)
    order = get_work_order(conn, order_id)
    if order is None:
        raise ApiError(404, "not_found", translate("error_404", lang))
    if not visible(user, order):
        raise ApiError(403, "forbidden", translate("forbidden", lang))
    sop = _sop(conn, order)
    return render(request, "crew_order.html", user, page="crew", order_id=order_id, strings=_js_strings(lang),
                  places=_places(conn, user, lang == "en"),
                  procedure=procedure_steps(sop, lang) if sop else [])
