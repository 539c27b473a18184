"""Gateway health for the control room: device presence and dead letters (rejected messages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dashboard.routers.common import Page, dependency, plain
from dashboard.security import Conn, require, scope_site
from dashboard.users import User

router = APIRouter(prefix="/api/v1", tags=["estate"])


@router.get("/presence", summary="Online/offline state of every device that ever reported")
def presence(conn: Conn, user: Annotated[User, Depends(require("admin", "operator", "subdistrict"))],
             site_id: Annotated[str | None, Query(max_length=64)] = None) -> list[dict[str, Any]]:
    """Ordered by device id; limited to your sites."""
    mod = dependency("gateway.presence")
    sites = scope_site(user, site_id)
    found: list[Any] = []
    for site in [None] if sites is None else sites:
        found += mod.list_presence(conn, site)
    return [plain(p) for p in found]


@router.get("/dead-letters", summary="Rejected device messages, newest first (admins)")
def dead_letters(conn: Conn, _: Annotated[User, Depends(require("admin"))],
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 reason: Annotated[str | None, Query(max_length=64)] = None,
                 device_id: Annotated[str | None, Query(max_length=64)] = None) -> Page[dict[str, Any]]:
    """Topic, reason, detail and payload size; the payload itself is not returned. ``total`` counts every dead
    letter of the reason (or all)."""
    mod = dependency("gateway.dead_letters")
    rows = mod.list_dead_letters(conn, limit=limit, reason=reason, device_id=device_id)
    counts = mod.count_by_reason(conn)
    total = counts.get(reason, 0) if reason else sum(counts.values())
    items = [{k: v for k, v in plain(r).items() if k != "payload"} for r in rows]
    return Page[dict[str, Any]](items=items, total=total, limit=limit, offset=0)


@router.get("/dead-letters/reasons", summary="How many dead letters each rejection reason has (admins)")
def dead_letter_reasons(conn: Conn, _: Annotated[User, Depends(require("admin"))]) -> dict[str, int]:
    return dependency("gateway.dead_letters").count_by_reason(conn)
