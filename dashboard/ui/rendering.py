"""Rendering pages: templates, the language, the signed-in page user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import LANGS, translate, work_order_states
from dashboard.roles import Group
from dashboard.security import optional_user
from dashboard.ui import nav
from dashboard.users import User

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.globals["roles"] = roles
templates.env.globals["nav_links"] = nav.links_for


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to /login."""


LANG_COOKIE = "pw_lang"


def lang_of(request: Request) -> str:
    """The reader's language: ``?lang=`` on this address, else the one they chose before (the cookie), else zh."""
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return wanted if wanted in LANGS else "zh"


def remember_lang(response: Response, lang: str) -> None:
    """Keep ``lang`` as the reader's choice for the pages that follow (a year)."""
    response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)


def render(request: Request, name: str, user: User | None, **context: Any) -> HTMLResponse:
    """Render a template with the user, language, translator and CSRF token. A page opened with ``?lang=en``
    keeps English for the next pages too, as the header's language link does."""
    lang = lang_of(request)
    response = templates.TemplateResponse(request, name, {
        "user": user, "lang": lang, "t": lambda key: translate(key, lang),
        "states": work_order_states(lang),
        "csrf": getattr(request.state, "csrf_token", None) or "", **context})
    if request.query_params.get("lang") in LANGS and request.cookies.get(LANG_COOKIE) != lang:
        remember_lang(response, lang)
    return response


def page_user(group: Group = roles.EVERYONE) -> Callable[[Request, User | None], User]:
    """A page dependency: the signed-in user of ``group``; a redirect to /login without one, 403 for others."""

    def check(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
        if user is None:
            raise LoginRequired
        if user.role not in group:
            raise ApiError(403, "forbidden", translate("forbidden", lang_of(request)))
        return user

    return check
