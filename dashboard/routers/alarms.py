"""The alarm console API over ``rules.alarms``: list, show, history, acknowledge, assign, clear; and reviewing and
publishing rule packs (``rules.store.publish_pack``). Silences are in ``dashboard.routers.silences``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import ApiError, not_found
from dashboard.routers.common import Comment, Page, Pagination, pagination
from dashboard.security import Conn, check_site, require, scope_site
from dashboard.users import User
from ingest import registry
from rules import alarms, console_query, silences
from rules.alarms import Alarm, AlarmTransition
from rules.console_query import ConsoleFilter, ConsoleView
from rules.errors import InvalidAlarmTransition, RulePackError
from rules.loader import default_pack, parse_pack
from rules.store import publish_pack

router = APIRouter(prefix="/api/v1", tags=["alarms"])

AlarmState = Literal["pending", "active", "acknowledged", "cleared"]
Severity = Literal["P0", "P1", "P2", "P3"]


class ShelfOut(BaseModel):
    """Who shelved (silenced) an alarm's scope, until when and why."""

    silence_id: int
    scope_type: str
    scope_id: str
    by: str
    until: datetime
    reason: str
    maintenance: bool


class AlarmOut(BaseModel):
    """An alarm as the console shows it.

    Restates ``rules.alarms.Alarm`` on purpose: it leaves out the internal ``self_clearing`` and adds the
    computed ``latched`` and ``maintenance_in_progress`` with their API descriptions."""

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
    suppressed: bool = Field(description="muted by a silence or an inhibition: no work order (never for a P0)")
    raised_in_silence: bool = Field(description="a silence covered it when it started (a P0 is raised all the same)")
    silence_id: int | None
    maintenance_in_progress: bool = Field(description="raised during a silence marked as maintenance in progress")
    latched: bool = Field(description="returned to normal unacknowledged: stays active until acknowledged")
    returned_at: datetime | None
    shelf: ShelfOut | None = Field(None, description="the silence shelving it (console listing only)")
    clearable: bool | None = Field(None, description="console listing only: whether a manual clear is allowed")


class SeverityCountOut(BaseModel):
    """Open alarms of one severity in your scope, and how many nobody has acknowledged (latched included)."""

    severity: str
    open: int
    unacked: int


class BulkAckIn(BaseModel):
    """Acknowledge several alarms with one comment (the console's bulk action)."""

    ids: list[int] = Field(min_length=1, max_length=200)
    comment: str = Field(min_length=1, max_length=2000)


class Skipped(BaseModel):
    """An alarm a bulk acknowledgement left as it was, and why (the refusal ``rules.alarms`` gave)."""

    id: int
    reason: str


class BulkAckOut(BaseModel):
    """The alarms acknowledged, and those left as they were with why (e.g. acknowledged meanwhile)."""

    acknowledged: list[AlarmOut]
    skipped: list[Skipped]


class TransitionOut(BaseModel):
    """One state change of an alarm: from, to, why, who (none for the engine) and when (data time)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    from_state: str | None
    to_state: str
    at: datetime
    cause: str
    actor: str | None
    values: dict[str, Any]


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=2000)


class RulePackIn(BaseModel):
    """A rule pack in YAML (docs/rules.md), laid over the default pack once published."""

    text: str = Field(min_length=1, max_length=200_000)


class RulePackOut(BaseModel):
    name: str
    version: int


class PackProblem(BaseModel):
    """One problem of a rule pack: its line, where in the document (``overrides[0].set.clear_for``), and what."""

    line: int
    path: str
    message: str


class RulePackReview(BaseModel):
    """What publishing the pack would say, without publishing it: no problems means it would be accepted."""

    name: str | None
    problems: list[PackProblem]


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
    severity: Annotated[list[Severity] | None, Query(description="repeat for several severities")] = None,
    console: Annotated[bool, Query(description="the console: open alarms, latched ones included")] = False,
    view: Annotated[ConsoleView, Query(description="console only: all, unacked, latched, acknowledged, shelved")]
    = "all",
    building_id: Annotated[str | None, Query(max_length=64, description="console only")] = None,
    category: Annotated[str | None, Query(max_length=64, description="console only")] = None,
    q: Annotated[str | None, Query(max_length=100, description="console only: title, device or building")] = None,
) -> Page[AlarmOut]:
    """Alarms filtered by state, site, device and severity, most severe then newest first; the site filter is
    limited to your scope. With ``console=true``: the open alarms (a P0/P1 that returned to normal unacknowledged
    stays, ``latched``), unacknowledged before acknowledged, narrowed by ``view``, ``building_id``, ``category``
    and the search ``q``; each carries the silence shelving it (``shelf``). ``state`` and ``device_id`` are not
    console filters (422)."""
    sites = scope_site(user, site_id)
    if console:
        if state is not None or device_id is not None:
            raise ApiError(422, "invalid", "state and device_id do not apply to console=true; use view or q")
        return _console_page(conn, sites, page, severity, view, building_id, category, q)
    if view != "all" or building_id or category or q:
        raise ApiError(422, "invalid", "view, building_id, category and q apply to console=true only")
    if severity is not None and len(severity) > 1:
        raise ApiError(422, "invalid", "several severities apply to console=true only")
    found, total = alarms.page_alarms(conn, sites=sites, states=state, device_id=device_id,
                                      severity=severity[0] if severity else None, limit=page.limit,
                                      offset=page.offset)
    return Page[AlarmOut](items=[_out(a) for a in found], total=total, limit=page.limit, offset=page.offset)


def _console_page(conn: Conn, sites: list[str] | None, page: Pagination, severities: list[str] | None,
                  view: ConsoleView, building_id: str | None, category: str | None,
                  q: str | None) -> Page[AlarmOut]:
    search = (q or "").strip() or None
    devices, buildings = _named(conn, sites, search) if search else ([], [])
    where = ConsoleFilter(sites=sites, severities=severities, building_id=building_id, category=category, view=view,
                          search=search, named_devices=devices, named_buildings=buildings)
    rows, total = console_query.page_console(conn, where, limit=page.limit, offset=page.offset)
    shelves = _shelves(conn, {row.shelf_id for row in rows if row.shelf_id is not None})
    items = [_out(row.alarm).model_copy(update={"shelf": shelves.get(row.shelf_id), "clearable": row.clearable})
             for row in rows]
    return Page[AlarmOut](items=items, total=total, limit=page.limit, offset=page.offset)


def _named(conn: Conn, sites: list[str] | None, search: str) -> tuple[list[str], list[str]]:
    """Ids of the devices and buildings in ``sites`` whose name holds ``search`` (names live in the registry)."""
    wanted = search.casefold()
    scoped = sites if sites is not None else [site.id for site in registry.list_sites(conn)]
    devices, buildings = [], []
    for site in scoped:
        devices += [d.id for d in registry.list_devices(conn, site_id=site) if wanted in d.name.casefold()]
        buildings += [b.id for b in registry.list_buildings(conn, site_id=site) if wanted in b.name.casefold()]
    return devices, buildings


def _shelves(conn: Conn, silence_ids: set[int]) -> dict[int | None, ShelfOut]:
    found: dict[int | None, ShelfOut] = {}
    for silence_id in silence_ids:
        record = silences.get_silence(conn, silence_id)
        if record is not None:
            found[silence_id] = ShelfOut(silence_id=record.id, scope_type=record.scope_type, scope_id=record.scope_id,
                                         by=record.created_by, until=record.ended_at or record.expires_at,
                                         reason=record.reason, maintenance=record.maintenance)
    return found


@router.get("/alarms/counts", response_model=list[SeverityCountOut],
            summary="Open and unacknowledged alarms per severity in your scope")
def counts(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
           site_id: Annotated[str | None, Query(max_length=64)] = None) -> list[SeverityCountOut]:
    """One entry per severity, P0 first, zeros included: what the console's header shows."""
    found = console_query.severity_counts(conn, sites=scope_site(user, site_id))
    return [SeverityCountOut(severity=c.severity, open=c.open, unacked=c.unacked) for c in found]


@router.post("/alarms/ack", response_model=BulkAckOut, summary="Acknowledge several alarms with one comment")
def bulk_ack(body: BulkAckIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]) -> BulkAckOut:
    """Every alarm is checked first (404 for an unknown one, 403 for one outside your sites: then nothing is
    acknowledged); alarms no longer active are skipped with the reason. One audit row per alarm acknowledged."""
    wanted = list(dict.fromkeys(body.ids))
    found = {alarm_id: _alarm_or_404(conn, alarm_id, user) for alarm_id in wanted}
    done, skipped = [], []
    for alarm_id, alarm in found.items():
        try:
            acked = alarms.acknowledge(conn, alarm_id, actor=user.username, comment=body.comment)
        except InvalidAlarmTransition as refused:
            skipped.append(Skipped(id=alarm_id, reason=str(refused)))
            continue
        audit.record(conn, user, "alarm.ack", "alarm", str(alarm_id), site_id=alarm.site_id,
                     detail={"comment": body.comment, "bulk": True})
        done.append(_out(acked))
    return BulkAckOut(acknowledged=done, skipped=skipped)


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


@router.get("/alarms/{alarm_id}/history", response_model=list[TransitionOut],
            summary="Every transition of one alarm, oldest first")
def history(alarm_id: int, conn: Conn,
            user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[TransitionOut]:
    """From, to, cause, actor (operators and work-order closes; none for the engine) and time of each change,
    including latching and release from a silence; 404 when unknown, 403 outside your sites."""
    _alarm_or_404(conn, alarm_id, user)
    return [_transition_out(t) for t in alarms.alarm_history(conn, alarm_id)]


def _transition_out(transition: AlarmTransition) -> TransitionOut:
    return TransitionOut.model_validate(transition)


@router.post("/rule-packs", response_model=RulePackOut, status_code=201,
             summary="Validate a rule pack and publish it as the next version of its name")
def publish(body: RulePackIn, conn: Conn, user: Annotated[User, Depends(require(roles.ADMINS))]) -> RulePackOut:
    """Running engines load it within seconds. 422 lists every problem with its line, e.g. an override whose
    clear level would sit past its trip level (rule, setting and values named)."""
    try:
        name, version = publish_pack(conn, body.text, actor=user.username)
    except RulePackError as exc:
        problems = _problems(exc)
        raise ApiError(422, "invalid", "; ".join(f"{p['path']}: {p['message']}" for p in problems),
                       {"reason": "RulePackError", "problems": problems}) from None
    audit.record(conn, user, "rule_pack.publish", "rule_pack", f"{name}@{version}", detail={"name": name})
    return RulePackOut(name=name, version=version)


@router.post("/rule-packs/review", response_model=RulePackReview,
             summary="Check a rule pack as publishing would, without publishing it")
def review(body: RulePackIn, _: Annotated[User, Depends(require(roles.ADMINS))]) -> RulePackReview:
    """The same validation as ``POST /rule-packs`` (overlaying the defaults), answered as a list of problems, empty
    when the pack would be accepted; nothing is stored or audited. The rules page asks it before offering Publish."""
    try:
        pack = parse_pack(body.text, "<review>", base=default_pack())
    except RulePackError as exc:
        return RulePackReview(name=None, problems=[PackProblem(**p) for p in _problems(exc)])
    return RulePackReview(name=pack.name, problems=[])


def _problems(exc: RulePackError) -> list[dict[str, Any]]:
    return [{"line": p.line, "path": p.path, "message": p.message} for p in exc.problems]
