"""The alarm console API over ``rules.alarms``: list, show, acknowledge, assign, clear, silence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashboard import audit
from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Comment, Page, Pagination, dependency, domain_error, pagination, plain
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User

router = APIRouter(prefix="/api/v1", tags=["alarms"])

AlarmState = Literal["pending", "active", "acknowledged", "cleared"]
Severity = Literal["P0", "P1", "P2", "P3"]
READERS = ("admin", "operator", "subdistrict")
HANDLERS = ("admin", "operator")


class AlarmOut(BaseModel):
    """An alarm as the console shows it."""

    model_config = ConfigDict(extra="ignore")
    id: Any
    fingerprint: str | None = None
    rule_id: str | None = None
    category: str | None = None
    severity: str | None = None
    state: str | None = None
    site_id: str | None = None
    building_id: str | None = None
    device_id: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    value: Any = None
    detail: Any = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    activated_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    ack_comment: str | None = None
    assigned_to: str | None = None
    cleared_at: datetime | None = None
    suppressed: bool | None = None


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=2000)


class SilenceIn(BaseModel):
    """Mute alarms in a scope for a window (maintenance)."""

    scope_type: Literal["site", "building", "device", "rule"]
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


def _alarm_or_404(conn: Conn, alarm_id: int, user: User) -> Any:
    rules = dependency("rules.alarms")
    alarm = rules.get_alarm(conn, alarm_id)
    if alarm is None:
        raise not_found("alarm", alarm_id)
    check_site(user, alarm.site_id)
    return alarm


def _out(alarm: Any) -> AlarmOut:
    return AlarmOut.model_validate(plain(alarm))


@router.get("/alarms", response_model=Page[AlarmOut], summary="List alarms in your scope")
def list_alarms(
    conn: Conn,
    user: Annotated[User, Depends(require(*READERS))],
    page: Annotated[Pagination, Depends(pagination)],
    state: Annotated[list[AlarmState] | None, Query(description="repeat for several states")] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    severity: Annotated[Severity | None, Query()] = None,
) -> Page[AlarmOut]:
    """Alarms filtered by state, site, device and severity; the site filter is limited to your scope."""
    rules = dependency("rules.alarms")
    sites = scope_site(user, site_id)
    items: list[Any] = []
    if sites is None or len(sites) == 1:
        wanted = None if sites is None else sites[0]
        kwargs = {"states": state, "site_id": wanted, "device_id": device_id, "severity": severity}
        items = rules.list_alarms(conn, **kwargs, limit=page.offset + page.limit + 1000, offset=0)
    else:
        for site in sites:
            items += rules.list_alarms(conn, states=state, site_id=site, device_id=device_id, severity=severity,
                                       limit=page.offset + page.limit + 1000, offset=0)
    items.sort(key=lambda a: (a.severity or "P9", -(a.last_seen or a.first_seen).timestamp()))
    chunk = items[page.offset: page.offset + page.limit]
    return Page[AlarmOut](items=[_out(a) for a in chunk], total=len(items), limit=page.limit, offset=page.offset)


@router.get("/alarms/{alarm_id}", response_model=AlarmOut, summary="One alarm")
def get_alarm(alarm_id: int, conn: Conn, user: Annotated[User, Depends(require(*READERS))]) -> AlarmOut:
    """404 when unknown, 403 outside your sites."""
    return _out(_alarm_or_404(conn, alarm_id, user))


def _change(conn: Conn, user: User, alarm_id: int, action: str, call: Any, detail: dict[str, Any]) -> AlarmOut:
    alarm = _alarm_or_404(conn, alarm_id, user)
    try:
        result = call()
    except (ValueError, LookupError, RuntimeError) as exc:
        raise domain_error(exc) from exc
    audit.record(conn, user, f"alarm.{action}", "alarm", str(alarm_id), site_id=alarm.site_id, detail=detail)
    rules = dependency("rules.alarms")
    return _out(result if result is not None and hasattr(result, "state") else rules.get_alarm(conn, alarm_id))


@router.post("/alarms/{alarm_id}/ack", response_model=AlarmOut, summary="Acknowledge an alarm with a comment")
def ack(alarm_id: int, body: Comment, conn: Conn, user: Annotated[User, Depends(require(*HANDLERS))]) -> AlarmOut:
    """Moves an active alarm to acknowledged; 409 when the state does not allow it."""
    rules = dependency("rules.alarms")
    return _change(conn, user, alarm_id, "ack",
                   lambda: rules.acknowledge(conn, alarm_id, actor=user.username, comment=body.comment),
                   {"comment": body.comment})


@router.post("/alarms/{alarm_id}/assign", response_model=AlarmOut, summary="Assign an alarm to a person or unit")
def assign(alarm_id: int, body: AssignIn, conn: Conn,
           user: Annotated[User, Depends(require(*HANDLERS))]) -> AlarmOut:
    """Records who handles it."""
    rules = dependency("rules.alarms")
    return _change(conn, user, alarm_id, "assign",
                   lambda: rules.assign(conn, alarm_id, actor=user.username, assignee=body.assignee,
                                        comment=body.comment),
                   {"assignee": body.assignee, "comment": body.comment})


@router.post("/alarms/{alarm_id}/clear", response_model=AlarmOut, summary="Clear an alarm by hand")
def clear(alarm_id: int, body: Comment, conn: Conn,
          user: Annotated[User, Depends(require(*HANDLERS))]) -> AlarmOut:
    """Manual clear with a comment."""
    rules = dependency("rules.alarms")
    return _change(conn, user, alarm_id, "clear",
                   lambda: rules.clear(conn, alarm_id, actor=user.username, comment=body.comment),
                   {"comment": body.comment})


@router.post("/silences", status_code=201, summary="Silence alarms in a scope for a time window")
def silence(body: SilenceIn, conn: Conn, user: Annotated[User, Depends(require(*HANDLERS))]) -> dict[str, Any]:
    """Site scopes are checked against yours; building/device scopes resolve to their site."""
    rules = dependency("rules.alarms")
    site = _scope_site(conn, body.scope_type, body.scope_id)
    if body.scope_type != "rule":
        if site is None:
            raise not_found(body.scope_type, body.scope_id)
        check_site(user, site)
    elif user.role != "admin":
        raise ApiError(403, "forbidden", "only an admin silences a rule everywhere")
    try:
        result = rules.silence(conn, scope_type=body.scope_type, scope_id=body.scope_id, starts_at=body.starts_at,
                               ends_at=body.ends_at, actor=user.username, reason=body.reason,
                               recurrence=body.recurrence)
    except (ValueError, LookupError) as exc:
        raise domain_error(exc) from exc
    ident = getattr(result, "id", result)
    audit.record(conn, user, "silence.create", "silence", str(ident), site_id=site,
                 detail=body.model_dump(mode="json"))
    return {"id": plain(ident), **body.model_dump(mode="json")}


def _scope_site(conn: Conn, scope_type: str, scope_id: str) -> str | None:
    from ingest import registry

    if scope_type == "site":
        return scope_id if any(s.id == scope_id for s in registry.list_sites(conn)) else None
    if scope_type == "building":
        return next((b.site_id for b in registry.list_buildings(conn) if b.id == scope_id), None)
    if scope_type == "device":
        device = registry.get_device(conn, scope_id)
        return device.site_id if device else None
    return None
