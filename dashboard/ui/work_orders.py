"""The work-order board (open orders by state, the closed list, search and filters) and one order's page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.i18n import translate, work_order_states
from dashboard.security import Conn, scope_site
from dashboard.strings import errors as error_strings
from dashboard.strings import work_orders as area_strings
from dashboard.ui import work_order_page
from dashboard.ui.rendering import lang_of, page_user, render, templates
from dashboard.users import User
from dispatch import crew, units
from ingest import registry
from rules.categories import categories

router = APIRouter(include_in_schema=False)

# The assignee filter lists at most this many crew members of the user's estates.
CREW_LISTED = 500
# Shared strings the pages' scripts use besides the area's own ``wo_*``.
SHARED_KEYS = ("sev_P0", "sev_P1", "sev_P2", "sev_P3", "verify", "range_of", "all", "prev_page", "next_page")


def refusal_strings(lang: str) -> dict[str, str]:
    """How a page says why the server refused (static/js/refusal.js), in ``lang``: one string per error."""
    return {key: translate(key, lang) for key in error_strings.STRINGS}


# The owners' and fund pages' confirmation block (templates/_confirm.html) carries them too.
templates.env.globals["refusal_strings"] = refusal_strings


def js_strings(lang: str) -> dict[str, object]:
    """The UI strings the work-order scripts read from the page's ``#i18n`` block, in ``lang``."""
    keys = (*area_strings.STRINGS, *SHARED_KEYS)
    return {key: translate(key, lang) for key in keys} | refusal_strings(lang) | {"states": work_order_states(lang)}


@router.get("/work-orders")
def work_orders(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    """The board; its orders load from the API by state, with the filters and view kept in the address."""
    english = lang_of(request) == "en"
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    members, _ = crew.page_crew(conn, sites=scope_site(user, None), limit=CREW_LISTED, offset=0)
    devices = [d for site in sites for d in registry.list_devices(conn, site_id=site.id)]
    return render(
        request, "work_orders.html", user, page="work_orders", categories=list(categories().values()), sites=sites,
        members=members,
        names={
            "categories": {c.id: c.en if english else c.zh for c in categories().values()},
            "sites": {s.id: (s.name_en or s.name) if english else s.name for s in sites},
            "units": {u.id: (u.name_en or u.name) if english else u.name for u in units.list_units(conn)},
            "crew": {m.id: m.name for m in members},
            "devices": {d.id: d.name for d in devices},
        },
        zones={s.id: s.timezone for s in sites}, strings=js_strings(lang_of(request)))


@router.get("/work-orders/{order_id}")
def work_order(order_id: int, request: Request, conn: Conn,
               user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    """One order: where, who, its SLA clocks, timeline, costs, photos and fund draws; the operator's actions."""
    view = work_order_page.order_page(conn, order_id, user, now=datetime.now(UTC), lang=lang_of(request))
    return render(request, "work_order.html", user, page="work_orders", view=view,
                  strings=js_strings(lang_of(request)))
