"""KPI report (DOMAIN §6.4) over ``dispatch.kpi``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.security import Conn, require, scope_site
from dashboard.users import User
from dispatch import kpi
from dispatch.kpi import Kpis

router = APIRouter(prefix="/api/v1/kpi", tags=["work-orders"])


class RateOut(BaseModel):
    """``hits`` of ``total``; ``value`` the fraction, ``None`` when there was nothing to measure."""

    model_config = ConfigDict(from_attributes=True)
    hits: int
    total: int
    value: float | None


class KpisOut(BaseModel):
    """The KPI set; durations in seconds."""

    orders: int
    mtta: float | None
    mttr: float | None
    sla_compliance: RateOut
    response_rate: RateOut
    arrival_rate: RateOut
    repeat_fault_rate: RateOut
    false_alarm_rate: RateOut

    @classmethod
    def of(cls, kpis: Kpis) -> KpisOut:
        """The report of ``dispatch.kpi``'s result."""
        def seconds(value: timedelta | None) -> float | None:
            return None if value is None else value.total_seconds()

        rate = RateOut.model_validate
        return cls(orders=kpis.orders, mtta=seconds(kpis.mtta), mttr=seconds(kpis.mttr),
                   sla_compliance=rate(kpis.sla_compliance), response_rate=rate(kpis.response_rate),
                   arrival_rate=rate(kpis.arrival_rate), repeat_fault_rate=rate(kpis.repeat_fault_rate),
                   false_alarm_rate=rate(kpis.false_alarm_rate))


class KpiReport(BaseModel):
    start: datetime
    end: datetime
    site_id: str | None
    unit_id: str | None
    kpis: KpisOut


@router.get("", response_model=KpiReport,
            summary="MTTA, MTTR, response and arrival rates, SLA compliance, false-alarm rate")
def kpis(conn: Conn, user: Annotated[User, Depends(require(roles.OVERSIGHT))],
         start: datetime | None = None, end: datetime | None = None,
         site_id: Annotated[str | None, Query(max_length=64)] = None,
         unit_id: Annotated[str | None, Query(max_length=64)] = None) -> KpiReport:
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
    site = sites[0] if sites else None
    result = kpi.compute_kpis(conn, start=start, end=end, unit_id=unit_id, site_id=site)
    return KpiReport(start=start, end=end, site_id=site, unit_id=unit_id, kpis=KpisOut.of(result))
