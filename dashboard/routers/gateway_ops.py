"""Gateway health for the control room: device presence and dead letters (rejected messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import roles
from dashboard.routers.common import Page
from dashboard.security import Conn, require, scope_site
from dashboard.users import User
from gateway import dead_letters, presence
from gateway.health import gateway_counts

router = APIRouter(prefix="/api/v1", tags=["estate"])


class DeadLetterOut(BaseModel):
    """A rejected message without its payload."""

    model_config = ConfigDict(from_attributes=True)
    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload_size: int
    site_id: str | None
    device_id: str | None


class DeadLetterPage(Page[DeadLetterOut]):
    """Dead letters stored, and how many more the gateways counted without storing them."""

    suppressed: int = Field(description="Rejected messages beyond their device's dead-letter allowance that the "
                                        "running gateways counted and did not store, since each started; of every "
                                        "estate, reason and device the gateways serve")


@router.get("/presence", response_model=list[presence.Presence],
            summary="Online/offline state of every device that ever reported")
def list_presence(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                  site_id: Annotated[str | None, Query(max_length=64)] = None) -> list[presence.Presence]:
    """Ordered by device id within each site; limited to your sites."""
    sites = scope_site(user, site_id)
    found = presence.list_presence(conn) if sites is None else [
        p for site in sites for p in presence.list_presence(conn, site)]
    return found


@router.get("/dead-letters", response_model=DeadLetterPage,
            summary="Rejected device messages of your estates, newest first (control room)")
def list_dead_letters(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                      limit: Annotated[int, Query(ge=1, le=500)] = 50,
                      reason: Annotated[str | None, Query(max_length=64)] = None,
                      device_id: Annotated[str | None, Query(max_length=64)] = None,
                      site_id: Annotated[str | None, Query(max_length=64)] = None) -> DeadLetterPage:
    """Topic, reason, detail and payload size; the payload itself is not returned. ``total`` counts every dead
    letter of the reason (or all) in the estates listed: an operator's own, every one for admins (dead letters of
    a topic naming no registered site are theirs alone). ``suppressed`` counts the rejected messages the gateways
    did not store (beyond a device's allowance): the gateways do not record whose, so it is one figure for all."""
    sites = scope_site(user, site_id)
    found = dead_letters.list_dead_letters(conn, limit=limit, reason=reason, device_id=device_id, sites=sites)
    counts = dead_letters.count_by_reason(conn, sites=sites)
    total = counts.get(reason, 0) if reason else sum(counts.values())
    suppressed = sum(c.dead_letters_suppressed for c in gateway_counts(conn))
    return DeadLetterPage(items=[DeadLetterOut.model_validate(d) for d in found], total=total, limit=limit,
                          offset=0, suppressed=suppressed)


@router.get("/dead-letters/reasons", summary="How many dead letters each rejection reason has (control room)")
def dead_letter_reasons(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                        site_id: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, int]:
    return dead_letters.count_by_reason(conn, sites=scope_site(user, site_id))
