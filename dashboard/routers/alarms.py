"""The alarm console API over ``rules.alarms``: list, show, acknowledge, assign, clear, silence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashboard import audit, roles
from dashboard.errors import not_found
from dashboard.routers.common import Comment, Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from ingest import registry
from rules import alarms
from rules.alarms import Alarm

router = APIRouter(prefix="/api/v1", tags=["alarms"])

AlarmState = Literal["pending", "active", "acknowledged", "cleared"]
Severity = Literal["P0", "P1", "P2", "P3"]
ScopeType = Literal["site", "building", "device"]


class AlarmOut(BaseModel):
    """An alarm as the console shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    fingerprint: str
    rule_id: str
    category: str
    severity: str
    state: str
    site_id: str
    building_id: str | None
    device_id: str | None
    title_zh: str
    title_en: str
    value: float | None
    detail: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    activated_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    ack_comment: str | None
    assigned_to: str | None
    cleared_at: datetime | None
    suppressed: bool


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=2000)


class SilenceIn(BaseModel):
    """Mute alarms in a scope for a window (maintenance)."""

    scope_type: ScopeType
    scope_id: str = Field(min_length=1, max_length=128)
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(min_length=1, max_length=2000)
    recurrence: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _window(self) -> SilenceIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a time zone")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SilenceOut(SilenceIn):
    id: int


def _alarm_or_404(conn: Conn, alarm_id: int, user: User) -> Alarm:
    alarm = alarms.get_alarm(conn, alarm_id)
    if alarm is None:
        raise not_found("alarm", alarm_id)
    check_site(user, alarm.site_id)
    return alarm


def _out(alarm: Alarm) -> AlarmOut:
    return AlarmOut.model_validate(alarm)


@router.get("/alarms", response_model=Page[AlarmOut], summary="List alarms in your scope")
def list_alarms(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
    page: Annotated[Pagination, Depends(pagination)],
    state: Annotated[list[AlarmState] | None, Query(description="repeat for several states")] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    severity: Annotated[Severity | None, Query()] = None,
) -> Page[AlarmOut]:
    """Alarms filtered by state, site, device and severity, most severe then newest first; the site filter is
    limited to your scope."""
    found, total = alarms.page_alarms(conn, sites=scope_site(user, site_id), states=state, device_id=device_id,
                                      severity=severity, limit=page.limit, offset=page.offset)
    return Page[AlarmOut](items=[_out(a) for a in found], total=total, limit=page.limit, offset=page.offset)


@router.get("/alarms/{alarm_id}", response_model=AlarmOut, summary="One alarm")
def get_alarm(alarm_id: int, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> AlarmOut:
    """404 when unknown, 403 outside your sites."""
    return _out(_alarm_or_404(conn, alarm_id, user))


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmOut, summary="Acknowledge an alarm with a comment")
def ack(alarm_id: int, body: Comment, conn: Conn,
        user: Annotated[User, Depends(require(roles.HANDLERS))]) -> AlarmOut:
    """Moves an active alarm to acknowledged; 409 when the state does not allow it."""
    alarm = _alarm_or_404(conn, alarm_id, user)
    done = alarms.acknowledge(conn, alarm_id, actor=user.username, comment=body.comment)
    audit.record(conn, user, "alarm.ack", "alarm", str(alarm_id), site_id=alarm.site_id,
                 detail={"comment": body.comment})
    return _out(done)


@router.post("/alarms/{alarm_id}/assign", response_model=AlarmOut, summary="Assign an alarm to a person or unit")
def assign(alarm_id: int, body: AssignIn, conn: Conn,
           user: Annotated[User, Depends(require(roles.HANDLERS))]) -> AlarmOut:
    """Records who handles it; 409 for a cleared alarm."""
    alarm = _alarm_or_404(conn, alarm_id, user)
    done = alarms.assign(conn, alarm_id, actor=user.username, assignee=body.assignee, comment=body.comment)
    audit.record(conn, user, "alarm.assign", "alarm", str(alarm_id), site_id=alarm.site_id,
                 detail={"assignee": body.assignee, "comment": body.comment})
    return _out(done)


@router.post("/alarms/{alarm_id}/clear", response_model=AlarmOut, summary="Clear an alarm by hand")
def clear(alarm_id: int, body: Comment, conn: Conn,
          user: Annotated[User, Depends(require(roles.HANDLERS))]) -> AlarmOut:
    """Manual clear with a comment; 409 when the alarm's rule clears it itself."""
    alarm = _alarm_or_404(conn, alarm_id, user)
    done = alarms.clear(conn, alarm_id, actor=user.username, comment=body.comment)
    audit.record(conn, user, "alarm.clear", "alarm", str(alarm_id), site_id=alarm.site_id,
                 detail={"comment": body.comment})
    return _out(done)


@router.post("/silences", response_model=SilenceOut, status_code=201,
             summary="Silence alarms in a scope for a time window")
def silence(body: SilenceIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]) -> SilenceOut:
    """Site scopes are checked against yours; building/device scopes resolve to their site (404 when unknown)."""
    site = _scope_site(conn, body.scope_type, body.scope_id)
    if site is None:
        raise not_found(body.scope_type, body.scope_id)
    check_site(user, site)
    silence_id = alarms.silence(conn, scope_type=body.scope_type, scope_id=body.scope_id, starts_at=body.starts_at,
                                ends_at=body.ends_at, actor=user.username, reason=body.reason,
                                recurrence=body.recurrence)
    audit.record(conn, user, "silence.create", "silence", str(silence_id), site_id=site,
                 detail=body.model_dump(mode="json"))
    return SilenceOut(id=silence_id, **body.model_dump())


def _scope_site(conn: Conn, scope_type: ScopeType, scope_id: str) -> str | None:
    """The site a silence scope lies in, ``None`` when the scope names nothing known."""
    if scope_type == "site":
        return scope_id if registry.get_site(conn, scope_id) is not None else None
    if scope_type == "building":
        return next((b.site_id for b in registry.list_buildings(conn) if b.id == scope_id), None)
    device = registry.get_device(conn, scope_id)
    return device.site_id if device else None
