"""Rendering pages: templates, the language, the signed-in page user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
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
