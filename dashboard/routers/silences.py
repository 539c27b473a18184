"""Silences over ``rules.silences``: create (with an expiry), list the active and recent ones with the alarms each
matched, end one early. Every change is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from dashboard import audit, roles
from dashboard.errors import not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from rules import silences
from rules.silences import SilenceRecord

router = APIRouter(prefix="/api/v1", tags=["alarms"])

ScopeType = Literal["site", "building", "device"]


class SilenceIn(BaseModel):
    """Mute alarms starting in a scope during a window (maintenance). Every silence expires: ``ends_at`` at most
    7 days after ``starts_at``, and a recurrence needs ``UNTIL`` at most 366 days after it (docs/rules.md). A P0
    alarm is never muted: it is raised, dispatched and marked ``raised_in_silence``."""

    scope_type: ScopeType
    scope_id: str = Field(min_length=1, max_length=128)
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=2000)
    recurrence: str | None = Field(None, max_length=200)
    maintenance: bool = Field(False, description="maintenance in progress on the scope (shown on P0 alarms)")


@router.post("/silences", response_model=SilenceRecord, status_code=201,
             summary="Silence alarms in a scope for a time window")
def create(body: SilenceIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]) -> SilenceRecord:
    """Site scopes are checked against yours; building/device scopes resolve to their site (404 when unknown).
    422 names the field (``details.field``) when the window has no end in time (longer than 7 days, a recurrence
    without ``UNTIL`` or one running over a year), is reversed or lacks a time zone."""
    site = silences.scope_site(conn, body.scope_type, body.scope_id)
    if site is None:
        raise not_found(body.scope_type, body.scope_id)
    check_site(user, site)
    silence_id = silences.silence(conn, scope_type=body.scope_type, scope_id=body.scope_id, starts_at=body.starts_at,
                                  ends_at=body.ends_at, actor=user.username, reason=body.reason,
                                  recurrence=body.recurrence, maintenance=body.maintenance)
    audit.record(conn, user, "silence.create", "silence", str(silence_id), site_id=site,
                 detail=body.model_dump(mode="json"))
    record = silences.get_silence(conn, silence_id)
    assert record is not None
    return record


@router.get("/silences", response_model=Page[SilenceRecord], summary="Active and recent silences in your scope")
def list_silences(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
    page: Annotated[Pagination, Depends(pagination)],
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    recent_hours: Annotated[int, Query(ge=0, le=24 * 31, description="ended or expired at most this long ago")] = 24,
) -> Page[SilenceRecord]:
    """Scheduled and active silences, and those that ended or expired in the last ``recent_hours``, newest first,
    each with the alarms it matched (the newest 100, ``matched_total`` counts all)."""
    found, total = silences.page_silences(conn, sites=scope_site(user, site_id), recent=timedelta(hours=recent_hours),
                                          limit=page.limit, offset=page.offset)
    return Page[SilenceRecord](items=found, total=total, limit=page.limit, offset=page.offset)


@router.get("/silences/{silence_id}", response_model=SilenceRecord, summary="One silence")
def get_silence(silence_id: int, conn: Conn,
                user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> SilenceRecord:
    """404 when unknown, 403 outside your sites."""
    return _silence_or_404(conn, silence_id, user)


@router.delete("/silences/{silence_id}", response_model=SilenceRecord, summary="End a silence now")
def end(silence_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))],
        reason: Annotated[str, Query(max_length=2000)] = "") -> SilenceRecord:
    """Alarms starting from now are not muted by it, and those it still mutes are released (their work orders
    open). 409 when it has already ended or expired; audited."""
    record = _silence_or_404(conn, silence_id, user)
    ended = silences.end_silence(conn, silence_id, actor=user.username, reason=reason)
    audit.record(conn, user, "silence.end", "silence", str(silence_id), site_id=record.site_id,
                 detail={"reason": reason})
    return ended


def _silence_or_404(conn: Conn, silence_id: int, user: User) -> SilenceRecord:
    record = silences.get_silence(conn, silence_id)
    if record is None:
        raise not_found("silence", silence_id)
    check_site(user, record.site_id)
    return record
