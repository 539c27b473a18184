"""What one work order's page shows: the order as the API gives it to this user, its place, SLA clocks per step,
its timeline told in the reader's language with times in the estate's zone, photos, costs, fund draws and the
operator actions its state allows. Gathered here so the page route stays one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import psycopg

from dashboard import roles
from dashboard.i18n import WORK_ORDER_STATES, translate
from dashboard.routers.work_orders import WorkOrderDetail, WorkOrderEventOut, get_order
from dashboard.ui.alarm_detail import local_time
from dashboard.users import User
from dispatch import crew, units
from dispatch.fund.draws import Draw, list_draws
from dispatch.workorders.resolution import COSTED_STATES
from ingest import registry
from rules.categories import categories

# SLA steps in the order they fall due, and the order's column stamping each as done (dispatch.states.SATISFIES).
STEPS: tuple[tuple[str, str], ...] = (("ack", "acked_at"), ("dispatch", "dispatched_at"), ("arrive", "on_site_at"),
                                      ("resolve", "resolved_at"))
OPEN = ("NEW", "ACKED", "DISPATCHED", "EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD")
# A fund draw needs the repair assessed on site (dispatch.fund): from then on the page offers to apply for one.
ASSESSED = ("ON_SITE", "IN_PROGRESS", "ON_HOLD", "RESOLVED", "VERIFIED")
# The operator actions (POST /api/v1/work-orders/{id}/<action>) and the states each applies to (docs/api.md).
ACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ack", ("NEW",)),
    ("assign", ("NEW", "ACKED")),
    ("reassign", ("DISPATCHED", "EN_ROUTE", "ON_SITE", "IN_PROGRESS", "ON_HOLD")),
    ("hold", ("IN_PROGRESS",)),
    ("resume", ("ON_HOLD",)),
    ("verify", ("RESOLVED",)),
    ("close", ("RESOLVED", "VERIFIED")),
    ("reopen", ("RESOLVED",)),
    ("false_alarm", ("NEW", "ACKED", "DISPATCHED", "EN_ROUTE", "ON_SITE")),
    ("cancel", OPEN),
)


@dataclass(frozen=True)
class SlaClock:
    """One step's deadline: ``result`` is ``met``, ``missed``, ``open`` (still running) or ``not_reached``."""

    step: str
    due: str
    due_iso: str
    done: str | None
    result: str
    missed_by: str | None


@dataclass(frozen=True)
class TimelineEntry:
    """One event as the page tells it: ``label`` its kind, ``summary`` what happened in the reader's language,
    ``note`` what a person wrote (a reason, a crew note) and ``system_note`` the system's own English wording;
    ``actor`` is ``None`` for the system (dispatch, SLA timers, the alarm feed)."""

    at: str
    kind: str
    label: str
    summary: str
    actor: str | None
    note: str | None
    system_note: str | None
    cost: str | None
    parts: str | None
    photo_ids: list[int]


@dataclass(frozen=True)
class OrderPage:
    """Everything the order page renders."""

    order: WorkOrderDetail
    title: str
    category: str
    zone: str
    created: str
    assignee: str | None
    unit: str
    sla: list[SlaClock]
    timeline: list[TimelineEntry]
    draws: list[Draw]
    actions: list[str]
    may_apply_for_draw: bool
    may_record_costs: bool
    cost_needed: bool
    links_to_control_room: bool
    hotline_received: str | None
    hotline_reply_due: str | None


def title_in(order: WorkOrderDetail, english: bool) -> str:
    """The order's title in the reader's language: English where the system wrote one, else as stored."""
    return (order.title_en or order.title) if english else order.title


def order_page(conn: psycopg.Connection, order_id: int, user: User, *, now: datetime, lang: str) -> OrderPage:
    """The page of order ``order_id`` as ``user`` may see it (the API's own answer: 404, 403 and who sees the
    reporter's contact are decided there)."""
    order = get_order(order_id, conn, user)
    english = lang == "en"
    zone = registry.site_timezone(conn, order.site_id)
    category = categories().get(order.category)
    unit = units.get_unit(conn, order.unit_id)
    member = crew.get_crew_member(conn, order.assignee_id) if order.assignee_id else None
    names = _crew_names(conn, order)
    ticket = order.hotline
    return OrderPage(
        order=order, title=title_in(order, english),
        category=(category.en if english else category.zh) if category else order.category, zone=str(zone),
        created=local_time(order.created_at, zone), assignee=member.name if member else order.assignee_id,
        unit=((unit.name_en or unit.name) if english else unit.name) if unit else order.unit_id,
        sla=sla_clocks(order, zone, now, lang),
        timeline=[_entry(e, zone, lang, names) for e in order.events],
        draws=[d for d in list_draws(conn, site_id=order.site_id) if d.work_order_id == order.id],
        actions=[a for a, states in ACTIONS if order.state in states] if user.role in roles.HANDLERS else [],
        may_apply_for_draw=user.role in roles.HANDLERS and order.state in ASSESSED,
        may_record_costs=user.role in roles.HANDLERS and order.state in COSTED_STATES,
        cost_needed=order.fund_draw_open and order.cost_total <= 0,
        links_to_control_room=user.role in roles.CONTROL_ROOM,
        hotline_received=local_time(ticket.received_at, zone) if ticket else None,
        hotline_reply_due=local_time(ticket.reply_due, zone) if ticket else None,
    )


def span_text(length: timedelta, lang: str) -> str:
    """A length of time with its units, the way static/js/wo_clock.js ``span`` writes it: ``12分05秒`` /
    ``12 min 05 s`` under an hour, ``1小时30分`` / ``1 h 30 min`` under a day, then days and hours."""
    s = abs(int(length.total_seconds()))
    if s < 60:
        return translate("wo_span_s", lang).format(s=s)
    if s < 3600:
        return translate("wo_span_ms", lang).format(m=s // 60, s=f"{s % 60:02d}")
    if s < 86400:
        return translate("wo_span_hm", lang).format(h=s // 3600, m=f"{s % 3600 // 60:02d}")
    return translate("wo_span_dh", lang).format(d=s // 86400, h=s % 86400 // 3600)


def sla_clocks(order: WorkOrderDetail, zone: tzinfo, now: datetime, lang: str) -> list[SlaClock]:
    """Each step the order has a deadline for: met, missed by how long (in ``lang``), still running, or never
    reached."""
    clocks = []
    for step, stamp in STEPS:
        due = order.due.get(step)
        if due is None:
            continue
        done: datetime | None = getattr(order, stamp)
        if done is not None:
            late = done - due
            result, missed_by = ("met", None) if late <= timedelta(0) else ("missed", span_text(late, lang))
        elif order.state in OPEN:
            result, missed_by = "open", None
        else:
            result, missed_by = "not_reached", None
        clocks.append(SlaClock(step, local_time(due, zone), due.isoformat(),
                               local_time(done, zone) if done else None, result, missed_by))
    return clocks


def _crew_names(conn: psycopg.Connection, order: WorkOrderDetail) -> dict[str, str]:
    """The names of the crew members the order's events mention."""
    ids = {order.assignee_id, order.offered_to}
    for event in order.events:
        ids.update(str(event.data[key]) for key in ("crew_id", "from", "to", "assignee_id") if event.data.get(key))
    found = (crew.get_crew_member(conn, i) for i in ids if i)
    return {m.id: m.name for m in found if m is not None}


def _state(code: str | None, lang: str) -> str:
    pair = WORK_ORDER_STATES.get(code or "")
    return (pair[1] if lang == "en" else pair[0]) if pair else (code or "")


def _category(category_id: object, lang: str) -> str:
    found = categories().get(str(category_id))
    return (found.en if lang == "en" else found.zh) if found else str(category_id)


def _summary(e: WorkOrderEventOut, lang: str, names: dict[str, str]) -> str:
    """What an event did, in the reader's language, from its structured fields (never the system's English)."""
    data: dict[str, Any] = e.data

    def person(key: str) -> str:
        return names.get(str(data.get(key)), str(data.get(key) or "—"))

    if e.kind == "transition":
        to_state = _state(e.to_state, lang)
        return f"{_state(e.from_state, lang)} → {to_state}" if e.from_state else to_state
    if e.kind == "assignment":
        return f"{person('from')} → {person('to')}" if data.get("from") else f"→ {person('to')}"
    if e.kind in ("offer", "offer_timeout"):
        return person("crew_id") if data.get("crew_id") else translate("wo_nobody", lang)
    if e.kind == "escalation":
        step = translate(f"wo_step_{data['step']}", lang) if data.get("step") else ""
        return f"{step} L{data.get('level', '')}".strip()
    if e.kind == "alarm":
        state = translate(f"st_{data.get('to_state')}", lang)
        return f"#{data.get('alarm_id')} {data.get('severity', '')} {state}"
    if e.kind == "upgrade":
        return f"{_category(data.get('from_category'), lang)} → {_category(data.get('to_category'), lang)}"
    return ""


# Kinds whose note the system writes in English; a person's words (reasons, crew notes, 12345 texts) show as typed.
SYSTEM_NOTES = frozenset({"offer", "offer_timeout", "escalation", "alarm", "upgrade"})
# Notes the system writes in English on a person's own event (dispatch.alarm_sync moves an order to ACKED when an
# operator acknowledges its alarm): told in the reader's language, by the UI string named here.
SYSTEM_WORDING = {"alarm acknowledged": "wo_note_alarm_acknowledged"}


def _actor(actor: str, names: dict[str, str]) -> str | None:
    """Who acted as a person reads it: ``None`` for the system, a crew member's name for ``crew:<id>``."""
    if actor.startswith("system"):
        return None
    kind, _, ident = actor.partition(":")
    return names.get(ident, actor) if kind == "crew" else actor


def _entry(e: WorkOrderEventOut, zone: tzinfo, lang: str, names: dict[str, str]) -> TimelineEntry:
    opened = e.kind == "transition" and e.from_state is None
    kind = "opened" if opened else e.kind
    parts = ", ".join(f"{p['name']} x{p['quantity']}" for p in e.parts) or None
    system = e.kind in SYSTEM_NOTES or opened
    summary = _summary(e, lang, names)
    worded = SYSTEM_WORDING.get(e.note or "")
    if worded:
        summary = f"{summary} · {translate(worded, lang)}"
    return TimelineEntry(
        at=local_time(e.at, zone), kind=kind, label=translate(f"wo_ev_{kind}", lang), summary=summary,
        actor=_actor(e.actor, names), note=None if system or worded else e.note,
        system_note=e.note if system else None,
        cost=str(e.labour_cost) if e.labour_cost is not None else None, parts=parts, photo_ids=e.photo_ids)
