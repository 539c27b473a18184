"""Server-rendered pages: login, control room, crew app, public board. Data-heavy parts load via the JSON API."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import LANGS, translate, work_order_states
from dashboard.roles import Group
from dashboard.routers import public
from dashboard.routers.kpi import KpisOut, RateOut
from dashboard.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL,
    Conn,
    form_user,
    optional_user,
    scope_site,
    sign_in,
    sign_out,
)
from dashboard.ui import alarm_detail, charts
from dashboard.users import User
from dispatch import kpi as dispatch_kpi
from dispatch.fund import estate as fund_estate
from dispatch.fund import ledger
from gateway import presence
from ingest import history, registry
from rules import alarms
from rules.categories import categories
from services import board as board_store
from services import bookings, catalog

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.globals["roles"] = roles
OPEN_ALARM_STATES = (alarms.PENDING, alarms.ACTIVE, alarms.ACKNOWLEDGED)
KPI_ROWS = ("orders", "mtta", "mttr", "sla_compliance", "response_rate", "arrival_rate", "repeat_fault_rate",
            "false_alarm_rate")
HOME = {"admin": "/console", "operator": "/console", "subdistrict": "/console", "crew": "/crew",
        "committee": "/fund-approvals", "owner": "/my-fund", "public": "/board"}


def _local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site (no scheme, host or protocol-relative trick)."""
    return target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login."""


def lang_of(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("pw_lang") or "zh"
    return wanted if wanted in LANGS else "zh"


def render(request: Request, name: str, user: User | None, **context: Any) -> HTMLResponse:
    """Render a template with the user, language, translator and CSRF token."""
    lang = lang_of(request)
    return templates.TemplateResponse(request, name, {
        "user": user, "lang": lang, "t": lambda key: translate(key, lang),
        "states": work_order_states(lang),
        "csrf": getattr(request.state, "csrf_token", None) or "", **context})


def page_user(group: Group = roles.EVERYONE) -> Callable[[Request, User | None], User]:
    """A page dependency: the signed-in user of ``group``; a redirect to /login without one, 403 for others."""

    def check(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
        if user is None:
            raise LoginRequired
        if user.role not in group:
            raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
        return user

    return check


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, error=None,
                      next=request.query_params.get("next", ""))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form(max_length=100)],
          next: Annotated[str, Form(max_length=200)] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    try:
        signed = sign_in(request, username, password, via="session")
    except ApiError as refused:
        if refused.status != 429:
            raise
        return _login_again(request, next, "login_throttled", 429, refused.headers)
    if signed is None:
        return _login_again(request, next, "bad_login", 401)
    target = next if _local_path(next) else home_of(signed.user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=int(SESSION_TTL.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def _login_again(request: Request, next: str, error: str, status: int,
                 headers: dict[str, str] | None = None) -> HTMLResponse:
    """The login form again with ``error`` shown and a fresh double-submit token."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, error=translate(error, lang_of(request)),
                      next=next)
    response.status_code = status
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/logout")
def logout(request: Request, conn: Conn, user: Annotated[User | None, Depends(form_user)],
           csrf_token: Annotated[str, Form(max_length=100)]) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not hmac.compare_digest(csrf_token, getattr(request.state, "csrf_token", "") or ""):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    sign_out(request, conn, user, request.cookies.get(SESSION_COOKIE, ""), via="session")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request) -> Response:
    referer = urlsplit(request.headers.get("referer") or "/")
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    response = RedirectResponse(back if code in LANGS and _local_path(back) else "/", status_code=303)
    if code in LANGS:
        response.set_cookie("pw_lang", code, samesite="strict", max_age=365 * 86400)
    return response


def home_of(user: User) -> str:
    """Where ``user`` lands after signing in: their role's page; the public role, their estate's public board."""
    target = HOME.get(user.role, "/console")
    if target == "/board" and user.site_ids:
        return f"/board/{user.site_ids[0]}"
    return target


@router.get("/")
def home(user: Annotated[User, Depends(page_user())]) -> Response:
    return RedirectResponse(home_of(user), status_code=303)


@router.get("/board")
def board_home(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> Response:
    """The public board of the signed-in user's estate; 404 for a caller linked to no estate."""
    if user is not None and user.site_ids:
        return RedirectResponse(f"/board/{user.site_ids[0]}", status_code=303)
    raise ApiError(404, "not_found", translate("no_board", lang_of(request)))


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


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The friendly page for a failed page request (403, 404, 503), with a way back home."""
    response = render(request, "error.html", None, status=status, message=message)
    response.status_code = status
    return response


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


@router.get("/work-orders")
def work_orders(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    return render(request, "work_orders.html", user, page="work_orders", categories=list(categories().values()),
                  sites=sites)


@router.get("/responsibility")
def responsibility(request: Request, user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    return render(request, "responsibility.html", user, page="responsibility")


@router.get("/fund-approvals")
def fund(request: Request, user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    return render(request, "fund.html", user, page="fund")


@router.get("/kpi")
def kpi(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    site_id = request.query_params.get("site_id") or (user.site_ids[0] if user.site_ids else None)
    if site_id is not None and not user.sees_site(site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    end = datetime.now(UTC)
    start = end - timedelta(days=30)
    report = KpisOut.of(dispatch_kpi.compute_kpis(conn, start=start, end=end, site_id=site_id))
    lang = lang_of(request)
    rows = [{"key": key, "label": translate(key, lang), "value": _kpi_text(key, getattr(report, key), lang)}
            for key in KPI_ROWS]
    return render(request, "kpi.html", user, page="kpi", kpis=report, rows=rows, start=start, end=end,
                  site_id=site_id)


def _kpi_text(key: str, value: RateOut | float | None, lang: str) -> str:
    """A KPI as the report shows it: a rate as percent with its counts, a duration in minutes."""
    if isinstance(value, RateOut):
        pct = "—" if value.value is None else f"{value.value * 100:.1f}%"
        return f"{pct} ({value.hits}/{value.total})"
    if value is None:
        return "—"
    if key in ("mtta", "mttr"):
        return f"{value / 60:.1f} {translate('minutes', lang)}"
    return str(value)


@router.get("/crew")
def crew(request: Request, user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    return render(request, "crew.html", user, page="crew")


@router.get("/crew/orders/{order_id}")
def crew_order(order_id: int, request: Request,
               user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    return render(request, "crew_order.html", user, page="crew", order_id=order_id)


@router.get("/my-fund")
def my_fund(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """The owner's own fund account (notice clause 17: owners query in real time)."""
    balance, entries = None, []
    if user.household_id:
        balance = ledger.balance(conn, user.household_id)
        entries = ledger.history(conn, user.household_id)
    return render(request, "my_fund.html", user, page="my_fund", balance=balance, history=entries)


@router.get("/my-services")
def my_services(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """An owner's home-service bookings (notice clause 15): the estate's bookable services and their own."""
    household = fund_estate.get_household(conn, user.household_id) if user.household_id else None
    if household is None:
        return render(request, "my_services.html", user, page="my_services", services=[], bookings=[],
                      tz=UTC, today="", utc_offset="Z")
    offered = [s for s in catalog.list_services(conn, household.site_id, kinds=("extra",), published_only=True)
               if s.bookable and s.price is not None]
    zone = registry.site_timezone(conn, household.site_id)
    now = datetime.now(zone)
    return render(request, "my_services.html", user, page="my_services", services=offered,
                  bookings=bookings.list_bookings(conn, household_id=household.id), tz=zone,
                  today=now.date().isoformat(), utc_offset=now.isoformat()[-6:])


@router.get("/service-desk")
def service_desk(request: Request, conn: Conn,
                 user: Annotated[User, Depends(page_user(roles.PUBLISHERS))]) -> HTMLResponse:
    """The service centre's view of home-service bookings of the operator's estates: confirm, done, cancel."""
    found = bookings.list_bookings(conn, site_ids=scope_site(user, None), limit=200)
    zones = {site: registry.site_timezone(conn, site) for site in {b.site_id for b in found}}
    return render(request, "service_desk.html", user, page="service_desk", bookings=found, zones=zones)


@router.get("/board-items")
def board_items(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.PUBLISHERS))],
                site_id: str | None = None) -> HTMLResponse:
    """Upkeep of the public board's items of one of the operator's estates: parking, apportionment, fee
    statements, price adjustments (each form calls the services API, which audits it)."""
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    if not sites:
        raise ApiError(404, "not_found", translate("no_board", lang_of(request)))
    chosen = site_id if site_id in {s.id for s in sites} else sites[0].id
    return render(request, "board_items.html", user, page="board_items", sites=sites, site_id=chosen,
                  parking=board_store.get_parking(conn, chosen), services=catalog.list_services(conn, chosen))


@router.get("/board/{site_id}")
def board(site_id: str, request: Request, conn: Conn) -> HTMLResponse:
    """The public board (notice clause 19) without sign-in: phone-friendly, printable as an A4 poster."""
    found = public.board_data(conn, site_id)
    return render(request, "board.html", None, board=found, tz=registry.site_timezone(conn, site_id), page="board")
