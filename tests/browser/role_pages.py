"""Every page of every role, from the app's router table: the GET routes of the page modules, each with the roles
its ``page_user`` dependency lets in, path parameters filled from the test world. The language, accessibility
and role-home tests walk this list, so a page added by any area is checked without being named here."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from dashboard.roles import ROLES
from ingest.database import connect
from tests.dashboard.world import World, open_emergency_draw, open_order_from_alarms, raise_trapped_alarm

# Routes that are no page to read: a redirect, the language switch, assets, the audit page's name lookup (JSON).
NOT_PAGES = ("/", "/lang/{code}", "/board", "/admin/audit/names")
PAGE_MODULES = "dashboard.ui."
PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class RolePage:
    """A page and a role allowed to open it (``None``: signed out, for pages open to anyone)."""

    role: str | None
    route: str
    path: str

    @property
    def id(self) -> str:
        return f"{self.role or 'anonymous'}:{self.path}"


def _allowed_roles(route: APIRoute) -> tuple[str, ...] | None:
    """The roles of the route's ``page_user(group)`` dependency; ``None`` for a page without one."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is not None and dependency.call.__qualname__.startswith("page_user."):
            return tuple(inspect.getclosurevars(dependency.call).nonlocals["group"])
        pending.extend(dependency.dependencies)
    return None


def page_routes(app: FastAPI) -> dict[str, tuple[str, ...] | None]:
    """Path template -> allowed roles, for every GET page route (no API, no asset)."""
    found: dict[str, tuple[str, ...] | None] = {}
    for context in iter_route_contexts(list(app.routes)):
        route = context.original_route
        if (isinstance(route, APIRoute) and context.path and "GET" in (context.methods or ())
                and route.endpoint.__module__.startswith(PAGE_MODULES) and context.path not in NOT_PAGES
                and not context.path.startswith(("/api/", "/vendor/"))):
            found[context.path] = _allowed_roles(route)
    return found


def world_parameters(world: World) -> dict[str, str]:
    """A value for each path parameter the pages take: the world's alarm, order, draw, device, company."""
    if world.alarm_id is None:
        raise_trapped_alarm(world)
        open_order_from_alarms(world)
        open_emergency_draw(world)
    values = {"site_id": world.site_id, "alarm_id": str(world.alarm_id), "order_id": str(world.order_id),
              "draw_id": str(world.draw_id), "device_id": world.elevator_id, "building_id": world.building_id}
    with connect(world.database_url) as conn:
        company = conn.execute("SELECT min(id) FROM supervision_companies").fetchone()[0]
    if company is not None:
        values["company_id"] = str(company)
    return values


def role_pages(app: FastAPI, world: World) -> list[RolePage]:
    """Every (role, page) pair; pages needing a value the world lacks are reported by the caller's assertion."""
    values = world_parameters(world)
    pages = []
    for route, roles in sorted(page_routes(app).items()):
        path = PARAMETER.sub(lambda m: values.get(m.group(1), m.group(0)), route)
        for role in roles if roles is not None else (None,):
            pages.append(RolePage(role, route, path))
    return pages


def pages_of(role: str | None, pages: list[RolePage]) -> list[RolePage]:
    """The pages ``role`` may open (``None``: the pages open to anyone)."""
    assert role is None or role in ROLES
    return [page for page in pages if page.role == role]
