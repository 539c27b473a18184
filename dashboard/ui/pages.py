"""Pages every role shares: sign-in and sign-out, the language switch, each role's home, the KPI report, error pages.

Each area's pages live in a module of their own beside this one (console, estate, work_orders, crew, fund,
services, admin, board); data-heavy parts load via the JSON API.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import LANGS, translate
from dashboard.routers.kpi import KpisOut, RateOut
from dashboard.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL,
    Conn,
    form_user,
    optional_user,
    sign_in,
    sign_out,
)
from dashboard.ui.rendering import lang_of, page_user, remember_lang, render
from dashboard.users import User
from dispatch import kpi as dispatch_kpi

router = APIRouter(include_in_schema=False)
KPI_ROWS = ("orders", "mtta", "mttr", "sla_compliance", "response_rate", "arrival_rate", "repeat_fault_rate",
            "false_alarm_rate")
HOME = {"admin": "/console", "operator": "/console", "subdistrict": "/console", "crew": "/crew",
        "committee": "/fund-approvals", "owner": "/my-fund", "public": "/board"}


def _local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site (no scheme, host or protocol-relative trick)."""
    return target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target


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
        remember_lang(response, code)
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


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The friendly page for a failed page request (403, 404, 503), with a way back home."""
    response = render(request, "error.html", None, status=status, message=message)
    response.status_code = status
    return response


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


