"""Alarms to work orders: one open order per incident, re-fires and related alarms attach to it.

An incident is one component at one place (``site/device-or-building-or-site/component``): an elevator fault
followed by an entrapment on the same lift is one incident, and the order is upgraded to the more severe
category. ``sync_alarms`` reads alarm transitions after a cursor kept in ``dispatch_cursors`` and advances the
cursor in the same transaction that opens or updates the orders, so each transition is handled exactly once
across crashes.

Each transition reads its order once (locked) and passes that value on; the order is read again only after a
change this module does not compute itself (an acknowledgement, an upgrade).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg
from psycopg.types.json import Jsonb

from dispatch.errors import ResponsibilityNotFound, UnknownPlace
from dispatch.responsibility import lookup
from dispatch.states import SATISFIES, State
from dispatch.workorders import journal, offers, queries
from dispatch.workorders.lifecycle import move
from dispatch.workorders.model import NewOrder, WorkOrder
from dispatch.workorders.opening import DEFAULT_REPEAT_WINDOW, find_repeat, open_order
from ingest.registry import get_device
from rules.alarms import transitions_since
from rules.categories import categories, severity_rank

log = logging.getLogger(__name__)
ALARM_ACTOR = "system:alarms"
CURSOR = "alarm_transitions"


class AlarmLike(Protocol):
    """The alarm fields dispatch reads (``rules.alarms.Alarm`` has them)."""

    @property
    def id(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def site_id(self) -> str: ...
    @property
    def building_id(self) -> str | None: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def title_zh(self) -> str: ...
    @property
    def title_en(self) -> str: ...
    @property
    def suppressed(self) -> bool: ...


class TransitionLike(Protocol):
    """The transition fields dispatch reads (``rules.alarms.AlarmTransition`` has them)."""

    @property
    def id(self) -> int: ...
    @property
    def alarm_id(self) -> int: ...
    @property
    def from_state(self) -> str | None: ...
    @property
    def to_state(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def values(self) -> dict[str, Any]: ...
    @property
    def alarm(self) -> AlarmLike: ...


TransitionSource = Callable[[psycopg.Connection, int, int], Sequence[TransitionLike]]


def handle_transition(
    conn: psycopg.Connection, transition_: TransitionLike, *, repeat_window: timedelta = DEFAULT_REPEAT_WINDOW
) -> WorkOrder | None:
    """Apply one alarm transition: becoming ``active`` opens or joins the incident's order, ``acknowledged``
    acks it, anything else on an alarm with an open order (cleared, assigned) is noted on it. Returns the order
    concerned, or ``None`` when there is none. Suppressed (silenced) alarms open nothing until their silence
    ends while they are still active.

    Handling the same transition twice changes nothing the second time.
    """
    with conn.transaction():
        done = conn.execute(
            "SELECT order_id FROM work_order_alarms WHERE transition_id = %s", (transition_.id,)
        ).fetchone()
        if done:
            return queries.fetch(conn, done[0])
        # An alarm released when its silence ended becomes actionable then, as if it had just activated.
        released = "silence_ended" in transition_.values
        if transition_.to_state == "active" and (transition_.from_state != "active" or released):
            if transition_.alarm.suppressed:
                return None
            return _on_active(conn, transition_, repeat_window)
        order = queries.open_order_of_alarm(conn, transition_.alarm_id)
        if order is None:
            return None
        order = _attach(conn, order, transition_)
        if transition_.to_state == "acknowledged" and order.state == State.NEW:
            move(conn, order, State.ACKED, actor=transition_.actor or ALARM_ACTOR, note="alarm acknowledged",
                 now=transition_.at)
            return queries.fetch(conn, order.id)
        return order


def _component(conn: psycopg.Connection, alarm: AlarmLike) -> str:
    category = categories().get(alarm.category)
    if category is not None and category.component != "any":
        return category.component
    # Category-agnostic alarms (device offline) belong to whatever the device is.
    device = get_device(conn, alarm.device_id) if alarm.device_id else None
    return device.type if device is not None else "*"


def incident_key(alarm: AlarmLike, component: str) -> str:
    """The incident an alarm belongs to: its component at its device (or building, or site)."""
    return f"{alarm.site_id}/{alarm.device_id or alarm.building_id or alarm.site_id}/{component}"


def _on_active(conn: psycopg.Connection, transition_: TransitionLike, repeat_window: timedelta) -> WorkOrder:
    alarm = transition_.alarm
    component = _component(conn, alarm)
    key = incident_key(alarm, component)
    order = queries.open_order_of_incident(conn, key)
    if order is not None:
        order = _attach(conn, order, transition_)
        if severity_rank(alarm.severity) < severity_rank(order.severity):
            return _upgrade(conn, order, alarm, component, transition_.at)
        return order
    spec = NewOrder(
        site_id=alarm.site_id, building_id=alarm.building_id, device_id=alarm.device_id, category=alarm.category,
        component=component, severity=alarm.severity, origin="alarm", title=alarm.title_zh,
        title_en=alarm.title_en, incident_key=key,
        repeat_of=find_repeat(conn, category=alarm.category, device_id=alarm.device_id, now=transition_.at,
                              window=repeat_window) if alarm.device_id else None,
    )
    return _attach(conn, open_order(conn, spec, actor=ALARM_ACTOR, now=transition_.at), transition_)


def _attach(conn: psycopg.Connection, order: WorkOrder, transition_: TransitionLike) -> WorkOrder:
    """Record the transition on the order and return the order with it attached."""
    alarm = transition_.alarm
    conn.execute(
        """INSERT INTO work_order_alarms (order_id, alarm_id, transition_id, category, at) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT DO NOTHING""",
        (order.id, transition_.alarm_id, transition_.id, alarm.category, transition_.at),
    )
    journal.record_event(
        conn, order.id, at=transition_.at, actor=transition_.actor or ALARM_ACTOR, kind="alarm",
        note=f"alarm {transition_.alarm_id} {transition_.to_state}: {alarm.title_en}",
        data={"alarm_id": transition_.alarm_id, "transition_id": transition_.id, "category": alarm.category,
              "severity": alarm.severity, "to_state": transition_.to_state},
    )
    journal.publish(conn, order.id)
    # An order shows the first alarm attached to it (the lowest id).
    first_alarm = min(a for a in (order.alarm_id, transition_.alarm_id) if a is not None)
    return dataclasses.replace(order, alarm_id=first_alarm)


def _upgrade(
    conn: psycopg.Connection, order: WorkOrder, alarm: AlarmLike, component: str, at: datetime
) -> WorkOrder:
    """A more severe alarm joined: take its category, severity, chain and tighter deadlines; return the order
    upgraded.

    The unit changes only while nobody has accepted the order (a crew already on it keeps it).
    """
    resp = lookup(conn, category=alarm.category, component=component, site_id=order.site_id,
                  building_id=order.building_id)
    reassign = order.assignee_id is None and resp.unit_id != order.unit_id
    conn.execute(
        """UPDATE work_orders SET category = %s, severity = %s, title = %s, title_en = %s, escalation = %s,
               on_breach = %s, emergency = emergency OR %s, fund_category = coalesce(%s, fund_category),
               updated_at = %s,
               unit_id = CASE WHEN %s THEN %s ELSE unit_id END, skill = CASE WHEN %s THEN %s ELSE skill END,
               accept_timeout_s = %s
           WHERE id = %s""",
        (alarm.category, alarm.severity, alarm.title_zh, alarm.title_en, Jsonb(resp.escalation),
         Jsonb(resp.on_breach), resp.emergency, resp.fund_category, at, reassign, resp.unit_id, reassign, resp.skill,
         int(resp.accept_timeout.total_seconds()), order.id),
    )
    already_met = SATISFIES.get(State(order.state), ())
    for step, limit in resp.sla.items():
        if step in already_met:
            continue
        conn.execute(
            """INSERT INTO sla_steps (order_id, step, due_at) VALUES (%s, %s, %s)
               ON CONFLICT (order_id, step) DO UPDATE SET due_at = least(sla_steps.due_at, excluded.due_at)
               WHERE sla_steps.fired_at IS NULL AND sla_steps.satisfied_at IS NULL""",
            (order.id, step, at + limit),
        )
    journal.record_event(
        conn, order.id, at=at, actor=ALARM_ACTOR, kind="upgrade",
        note=f"upgraded {order.category} ({order.severity}) → {alarm.category} ({alarm.severity})",
        data={"from_category": order.category, "to_category": alarm.category, "unit_id": resp.unit_id},
    )
    upgraded = queries.fetch(conn, order.id)
    if reassign:
        conn.execute("UPDATE work_order_offers SET outcome = 'superseded' WHERE order_id = %s AND outcome IS NULL",
                     (order.id,))
        upgraded = offers.offer(conn, upgraded, skill=resp.skill, timeout=resp.accept_timeout, now=at)
    journal.publish(conn, order.id)
    return upgraded


def sync_alarms(conn: psycopg.Connection, *, source: TransitionSource | None = None, batch: int = 500) -> int:
    """Handle every alarm transition after the stored cursor (read from ``source``, by default
    ``rules.alarms.transitions_since``); return how many were read.

    Each batch, its orders and the cursor advance commit together. A transition whose category the list does not
    cover, or whose site does not exist, is logged and skipped rather than blocking the ones behind it.
    """
    fetch = source or transitions_since
    total = 0
    while True:
        with conn.transaction():
            after = conn.execute(
                "SELECT last_id FROM dispatch_cursors WHERE name = %s FOR UPDATE", (CURSOR,)
            ).fetchone()[0]
            transitions = list(fetch(conn, after, batch))
            for item in transitions:
                try:
                    handle_transition(conn, item)
                except (ResponsibilityNotFound, UnknownPlace) as exc:
                    log.warning("alarm transition %d skipped: %s", item.id, exc)
            if transitions:
                conn.execute("UPDATE dispatch_cursors SET last_id = %s WHERE name = %s",
                             (max(t.id for t in transitions), CURSOR))
        total += len(transitions)
        if len(transitions) < batch:
            return total
