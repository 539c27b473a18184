"""Alarms as the rest of propwatch sees them: query, acknowledge, assign, clear, silence, follow transitions.

Operator actions are transitions with an ``actor``; each writes its row, its transition and a NOTIFY on
``pw_alarms`` in one transaction. A running engine picks them up from the transition log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from rules.errors import AlarmNotFound, InvalidAlarmTransition, InvalidSilence, UnknownAlarmState
from rules.lifecycle import ACKNOWLEDGED, ACTIVE, CLEARED, PENDING, STATES
from rules.silences import parse_recurrence
from rules.store import CHANNEL

ALARM_COLUMNS = sql.SQL("""a.id, a.fingerprint, a.rule_id, a.category, a.severity, a.state, a.site_id, a.building_id,
    a.device_id, a.title_zh, a.title_en, a.value, a.detail, a.first_seen, a.last_seen, a.activated_at, a.acked_at,
    a.acked_by, a.ack_comment, a.assigned_to, a.cleared_at, a.suppressed""")


@dataclass(frozen=True)
class Alarm:
    """One alarm instance: a (rule, device-or-scope) pair from first sight to clearing."""

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


@dataclass(frozen=True)
class AlarmTransition:
    """One recorded state change; ``alarm`` is the alarm as it is now."""

    id: int
    alarm_id: int
    from_state: str | None
    to_state: str
    at: datetime
    cause: str
    actor: str | None
    values: dict[str, Any]
    alarm: Alarm


_FILTER = sql.SQL("""(%(states)s::text[] IS NULL OR a.state = ANY(%(states)s))
    AND (%(sites)s::text[] IS NULL OR a.site_id = ANY(%(sites)s))
    AND (%(device)s::text IS NULL OR a.device_id = %(device)s)
    AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)""")


def _check_states(states: Sequence[str] | None) -> None:
    unknown = set(states or ()) - set(STATES)
    if unknown:
        raise UnknownAlarmState(f"unknown alarm states: {', '.join(sorted(unknown))}; known: {', '.join(STATES)}")


def list_alarms(conn: psycopg.Connection, *, states: Sequence[str] | None = None, site_id: str | None = None,
                device_id: str | None = None, severity: str | None = None, limit: int = 100,
                offset: int = 0) -> list[Alarm]:
    """Alarms matching every given filter, most severe first, then newest first."""
    _check_states(states)
    with conn.cursor(row_factory=class_row(Alarm)) as cur:
        cur.execute(
            sql.SQL("""SELECT {} FROM alarms a WHERE {}
                ORDER BY a.severity, a.first_seen DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s""")
            .format(ALARM_COLUMNS, _FILTER),
            {"states": list(states) if states is not None else None,
             "sites": [site_id] if site_id is not None else None, "device": device_id, "severity": severity,
             "limit": limit, "offset": offset},
        )
        return cur.fetchall()


def page_alarms(conn: psycopg.Connection, *, sites: Sequence[str] | None, states: Sequence[str] | None = None,
                device_id: str | None = None, severity: str | None = None, limit: int,
                offset: int) -> tuple[list[Alarm], int]:
    """One page of the alarms matching every given filter, most severe first, then most recently seen, and the
    number of alarms matching in all. ``sites=None`` means every site; an empty ``sites`` matches nothing."""
    _check_states(states)
    params = {"states": list(states) if states is not None else None,
              "sites": list(sites) if sites is not None else None, "device": device_id, "severity": severity,
              "limit": limit, "offset": offset}
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("""SELECT {}, count(*) OVER () FROM alarms a
                WHERE {} ORDER BY a.severity, a.last_seen DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s""")
            .format(ALARM_COLUMNS, _FILTER),
            params,
        )
        rows = cur.fetchall()
        if rows:
            return [Alarm(*row[:-1]) for row in rows], rows[0][-1]
        if offset == 0:
            return [], 0
        # Past the last match the window has no row to ride on, so the total is counted on its own.
        cur.execute(sql.SQL("SELECT count(*) FROM alarms a WHERE {}").format(_FILTER), params)
        row = cur.fetchone()
        return [], row[0] if row else 0


def get_alarm(conn: psycopg.Connection, alarm_id: int) -> Alarm | None:
    """One alarm by id, or ``None``."""
    with conn.cursor(row_factory=class_row(Alarm)) as cur:
        cur.execute(sql.SQL("SELECT {} FROM alarms a WHERE a.id = %s").format(ALARM_COLUMNS), (alarm_id,))
        return cur.fetchone()


def _locked(conn: psycopg.Connection, alarm_id: int) -> tuple[str, bool]:
    row = conn.execute("SELECT state, manual_clear FROM alarms WHERE id = %s FOR UPDATE", (alarm_id,)).fetchone()
    if row is None:
        raise AlarmNotFound(f"no alarm {alarm_id}")
    return row[0], row[1]


def _record(conn: psycopg.Connection, alarm_id: int, from_state: str, to_state: str, cause: str,
            actor: str, values: dict[str, Any]) -> None:
    row = conn.execute(
        """INSERT INTO alarm_transitions (alarm_id, from_state, to_state, at, cause, actor, suppressed, vals)
           SELECT %s, %s, %s, now(), %s, %s, suppressed, %s FROM alarms WHERE id = %s RETURNING id, at""",
        (alarm_id, from_state, to_state, cause, actor, Jsonb(values), alarm_id),
    ).fetchone()
    assert row is not None
    payload = orjson.dumps({"transition_id": row[0], "alarm_id": alarm_id, "from": from_state, "to": to_state,
                            "at": row[1].isoformat(), "actor": actor}).decode()
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def _done(conn: psycopg.Connection, alarm_id: int) -> Alarm:
    alarm = get_alarm(conn, alarm_id)
    assert alarm is not None
    return alarm


def acknowledge(conn: psycopg.Connection, alarm_id: int, *, actor: str, comment: str) -> Alarm:
    """Acknowledge an active alarm: someone owns it now. It still clears when its condition ends."""
    with conn.transaction():
        state, _ = _locked(conn, alarm_id)
        if state != ACTIVE:
            raise InvalidAlarmTransition(f"alarm {alarm_id} is {state}; only an active alarm can be acknowledged")
        conn.execute(
            """UPDATE alarms SET state = 'acknowledged', acked_at = now(), acked_by = %s, ack_comment = %s
               WHERE id = %s""",
            (actor, comment, alarm_id),
        )
        _record(conn, alarm_id, state, ACKNOWLEDGED, f"acknowledged: {comment}", actor, {"comment": comment})
    return _done(conn, alarm_id)


def assign(conn: psycopg.Connection, alarm_id: int, *, actor: str, assignee: str, comment: str) -> Alarm:
    """Give an open alarm to ``assignee`` (recorded as a transition to the same state)."""
    with conn.transaction():
        state, _ = _locked(conn, alarm_id)
        if state == CLEARED:
            raise InvalidAlarmTransition(f"alarm {alarm_id} is cleared; it cannot be assigned")
        conn.execute("UPDATE alarms SET assigned_to = %s WHERE id = %s", (assignee, alarm_id))
        _record(conn, alarm_id, state, state, f"assigned to {assignee}: {comment}", actor,
                {"assignee": assignee, "comment": comment})
    return _done(conn, alarm_id)


def clear(conn: psycopg.Connection, alarm_id: int, *, actor: str, comment: str) -> Alarm:
    """Clear an alarm by hand, if its rule allows it (event-driven rules do; measured conditions do not)."""
    with conn.transaction():
        state, manual_clear = _locked(conn, alarm_id)
        if state == CLEARED:
            raise InvalidAlarmTransition(f"alarm {alarm_id} is already cleared")
        if not manual_clear:
            raise InvalidAlarmTransition(
                f"alarm {alarm_id}: its rule does not allow a manual clear; it clears when the condition ends")
        conn.execute("UPDATE alarms SET state = 'cleared', cleared_at = now(), recovering_since = NULL "
                     "WHERE id = %s", (alarm_id,))
        _record(conn, alarm_id, state, CLEARED, f"cleared by hand: {comment}", actor, {"comment": comment})
    return _done(conn, alarm_id)


def silence(conn: psycopg.Connection, *, scope_type: Literal["device", "building", "site"], scope_id: str,
            starts_at: datetime, ends_at: datetime, actor: str, reason: str,
            recurrence: str | None = None) -> int:
    """Record a silence or maintenance window; alarms starting inside it are stored as suppressed.

    ``recurrence`` is ``FREQ=DAILY`` or ``FREQ=WEEKLY[;BYDAY=MO,WE]`` with optional ``;UNTIL=20261231T000000Z``.
    Returns the silence id. Running engines pick it up within their reload interval.
    """
    if scope_type not in ("device", "building", "site"):
        raise InvalidSilence(f"scope_type must be device, building or site, got {scope_type!r}")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidSilence("starts_at and ends_at must be timezone-aware")
    if ends_at <= starts_at:
        raise InvalidSilence("ends_at must be after starts_at")
    if recurrence is not None:
        parse_recurrence(recurrence)
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO silences (scope_type, scope_id, starts_at, ends_at, recurrence, actor, reason)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (scope_type, scope_id, starts_at, ends_at, recurrence, actor, reason),
        ).fetchone()
    assert row is not None
    return row[0]


def transitions_since(conn: psycopg.Connection, after_id: int, limit: int = 500) -> list[AlarmTransition]:
    """Transitions with id greater than ``after_id``, oldest first, each with its alarm as it is now."""
    rows = conn.execute(
        sql.SQL("""SELECT t.id, t.alarm_id, t.from_state, t.to_state, t.at, t.cause, t.actor, t.vals, {}
            FROM alarm_transitions t JOIN alarms a ON a.id = t.alarm_id
            WHERE t.id > %s ORDER BY t.id LIMIT %s""").format(ALARM_COLUMNS),
        (after_id, limit),
    ).fetchall()
    return [AlarmTransition(*row[:8], alarm=Alarm(*row[8:])) for row in rows]


def alarm_history(conn: psycopg.Connection, alarm_id: int) -> list[AlarmTransition]:
    """Every transition of one alarm, oldest first."""
    alarm = get_alarm(conn, alarm_id)
    if alarm is None:
        raise AlarmNotFound(f"no alarm {alarm_id}")
    rows = conn.execute(
        """SELECT id, alarm_id, from_state, to_state, at, cause, actor, vals FROM alarm_transitions
           WHERE alarm_id = %s ORDER BY id""",
        (alarm_id,),
    ).fetchall()
    return [AlarmTransition(*row, alarm=alarm) for row in rows]


__all__ = [
    "ACKNOWLEDGED", "ACTIVE", "CLEARED", "PENDING", "Alarm", "AlarmNotFound", "AlarmTransition",
    "InvalidAlarmTransition", "acknowledge", "alarm_history", "assign", "clear", "get_alarm", "list_alarms",
    "page_alarms", "silence", "transitions_since",
]
