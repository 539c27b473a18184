"""Server-rendered pages: login, control room, crew app, public board. Data-heavy parts load via the JSON API."""

from __future__ import annotations

import hmac
import importlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dashboard.errors import ApiError
from dashboard.i18n import LANGS, translate, work_order_states
from dashboard.routers import public
from dashboard.routers.common import plain
from dashboard.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL,
    Conn,
    form_user,
    issue_token,
    optional_user,
    revoke_token,
    sign_in,
)
from dashboard.ui import charts
from dashboard.users import User
from ingest import registry

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
CONTROL = ("admin", "operator", "subdistrict")
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


def page_user(*roles: str) -> Any:
    def check(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
        if user is None:
            raise LoginRequired
        if roles and user.role not in roles:
            raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
        return user
    return check


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, login_csrf=token, error=None,
                      next=request.query_params.get("next", ""))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
def login(request: Request, conn: Conn, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], csrf_token: Annotated[str, Form(max_length=100)],
          next: Annotated[str, Form(max_length=200)] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    user = sign_in(conn, username, password)
    if user is None:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, login_csrf=token,
                          error=translate("bad_login", lang_of(request)), next=next)
        response.status_code = 401
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
        return response
    value, _ = issue_token(conn, request.app.state.secret_key, user, "session")
    target = next if _local_path(next) else HOME.get(user.role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=int(SESSION_TTL.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, conn: Conn, user: Annotated[User | None, Depends(form_user)],
           csrf_token: Annotated[str, Form(max_length=100)]) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    if not hmac.compare_digest(csrf_token, getattr(request.state, "csrf_token", "") or ""):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    revoke_token(conn, request.app.state.secret_key, request.cookies.get(SESSION_COOKIE, ""))
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


@router.get("/")
def home(user: Annotated[User, Depends(page_user())]) -> Response:
    target = HOME.get(user.role, "/console")
    if target == "/board":
        target = f"/board/{user.site_ids[0]}" if user.site_ids else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/console")
def console(request: Request, user: Annotated[User, Depends(page_user(*CONTROL))]) -> HTMLResponse:
    return render(request, "console.html", user, page="console")


@router.get("/estate")
def estate(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(*CONTROL))]) -> HTMLResponse:
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    devices = registry.list_devices(conn)
    rules = _optional("rules.alarms")
    presence_mod = _optional("gateway.presence")
    rows = []
    for site in sites:
        presence = {p.device_id: p.status for p in presence_mod.list_presence(conn, site.id)} if presence_mod else {}
        open_alarms = len(rules.list_alarms(conn, states=["pending", "active", "acknowledged"], site_id=site.id,
                                            limit=1000, offset=0)) if rules else None
        rows.append({"site": site, "buildings": registry.list_buildings(conn, site_id=site.id),
                     "devices": [d for d in devices if d.site_id == site.id], "open_alarms": open_alarms,
                     "presence": presence})
    return render(request, "estate.html", user, page="estate", rows=rows)


@router.get("/devices/{device_id}")
def device_page(device_id: str, request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(*CONTROL))]) -> HTMLResponse:
    device = registry.get_device(conn, device_id)
    if device is None:
        raise ApiError(404, "not_found", f"device {device_id} not found")
    if not user.sees_site(device.site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    history = _optional("ingest.history")
    latest: dict[str, Any] = {}
    chart_svgs: list[dict[str, str]] = []
    if history is not None:
        latest = {metric: {"ts": ts, "value": value} for metric, (ts, value) in history.latest(conn, device_id).items()}
        end = datetime.now(UTC)
        for metric in list(latest)[:8]:
            start = end - timedelta(hours=6)
            buckets = history.rollup(conn, device_id, metric, start, end, bucket=timedelta(minutes=1))
            series = [(b.bucket, b.avg) for b in buckets]
            chart_svgs.append({"metric": metric, "svg": charts.line_chart(series, label=metric)})
    return render(request, "device.html", user, page="estate", device=device, latest=latest, charts=chart_svgs)


@router.get("/work-orders")
def work_orders(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user("admin", "operator", "subdistrict", "committee"))]
                ) -> HTMLResponse:
    cats = _optional("rules.categories")
    categories = list(cats.categories().values()) if cats else []
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    return render(request, "work_orders.html", user, page="work_orders", categories=categories, sites=sites)


@router.get("/responsibility")
def responsibility(request: Request, user: Annotated[User, Depends(page_user(*CONTROL))]) -> HTMLResponse:
    return render(request, "responsibility.html", user, page="responsibility")


@router.get("/fund-approvals")
def fund(request: Request, user: Annotated[User, Depends(page_user("admin", "operator", "committee",
                                                                   "subdistrict"))]) -> HTMLResponse:
    return render(request, "fund.html", user, page="fund")


@router.get("/kpi")
def kpi(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(*CONTROL, "committee"))]
        ) -> HTMLResponse:
    site_id = request.query_params.get("site_id") or (user.site_ids[0] if user.site_ids else None)
    if site_id is not None and not user.sees_site(site_id):
        raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
    mod = _optional("dispatch.kpi")
    end = datetime.now(UTC)
    start = end - timedelta(days=30)
    result = plain(mod.compute_kpis(conn, start=start, end=end, site_id=site_id)) if mod else None
    lang = lang_of(request)
    rows = []
    for key in ("orders", "mtta", "mttr", "sla_compliance", "response_rate", "arrival_rate", "repeat_fault_rate",
                "false_alarm_rate"):
        value = (result or {}).get(key)
        if isinstance(value, dict):
            pct = "—" if value.get("value") is None else f"{value['value'] * 100:.1f}%"
            shown = f"{pct} ({value.get('hits')}/{value.get('total')})"
        elif key in ("mtta", "mttr"):
            shown = "—" if value is None else f"{value / 60:.1f} {translate('minutes', lang)}"
        else:
            shown = "—" if value is None else str(value)
        rows.append({"key": key, "label": translate(key, lang), "value": shown})
    return render(request, "kpi.html", user, page="kpi", kpis=result, rows=rows, start=start, end=end,
                  site_id=site_id)


@router.get("/crew")
def crew(request: Request, user: Annotated[User, Depends(page_user("crew"))]) -> HTMLResponse:
    return render(request, "crew.html", user, page="crew")


@router.get("/crew/orders/{order_id}")
def crew_order(order_id: int, request: Request, user: Annotated[User, Depends(page_user("crew"))]) -> HTMLResponse:
    return render(request, "crew_order.html", user, page="crew", order_id=order_id)


@router.get("/my-fund")
def my_fund(request: Request, conn: Conn, user: Annotated[User, Depends(page_user("owner"))]) -> HTMLResponse:
    """The owner's own fund account (notice clause 17: owners query in real time)."""
    ledger = _optional("dispatch.fund.ledger")
    balance, history = None, []
    if ledger is not None and user.household_id:
        balance = ledger.balance(conn, user.household_id)
        history = ledger.history(conn, user.household_id)
    return render(request, "my_fund.html", user, page="my_fund", balance=balance, history=history)


@router.get("/board/{site_id}")
def board(site_id: str, request: Request, conn: Conn) -> HTMLResponse:
    data = public.board_data(conn, site_id)
    return render(request, "board.html", None, board=data, page="board")
