"""KPI report (DOMAIN §6.4) over ``dispatch.kpi``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dashboard.errors import ApiError
from dashboard.routers.common import dependency, plain
from dashboard.security import Conn, require, scope_site
from dashboard.users import User

router = APIRouter(prefix="/api/v1/kpi", tags=["work-orders"])


@router.get("", summary="MTTA, MTTR, response and arrival rates, SLA compliance, false-alarm rate")
def kpis(conn: Conn, user: Annotated[User, Depends(require("admin", "operator", "committee", "subdistrict"))],
         start: datetime | None = None, end: datetime | None = None,
         site_id: Annotated[str | None, Query(max_length=64)] = None,
         unit_id: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    """Defaults to the last 30 days. Non-admins must name one of their sites when they have several."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ApiError(422, "invalid", "need time-zone-aware start < end")
    sites = scope_site(user, site_id)
    if sites is not None and len(sites) != 1:
        if not sites:
            raise ApiError(403, "forbidden", "no site in your scope")
        raise ApiError(422, "invalid", "name one site_id", {"site_ids": sites})
    kpi = dependency("dispatch.kpi")
    result = kpi.compute_kpis(conn, start=start, end=end, unit_id=unit_id, site_id=sites[0] if sites else None)
    return {"start": start.isoformat(), "end": end.isoformat(), "site_id": sites[0] if sites else None,
            "unit_id": unit_id, "kpis": plain(result)}
