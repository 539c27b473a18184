"""Alarms as the rest of propwatch sees them: query, acknowledge, assign, clear, silence, follow transitions.

Operator actions are transitions with an ``actor``; each writes its row, its transition and a NOTIFY on
``pw_alarms`` in one transaction. A running engine picks them up from the transition log. Dispatch closes the
alarms of a finished work order through ``close_for_work_order``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from rules.errors import AlarmNotFound, CommentRequired, InvalidAlarmTransition, UnknownAlarmState
from rules.lifecycle import ACKNOWLEDGED, ACTIVE, CLEARED, PENDING, STATES
from rules.silences import silence
from rules.store import CHANNEL

ALARM_COLUMNS = sql.SQL("""a.id, a.fingerprint, a.rule_id, a.category, a.severity, a.state, a.site_id, a.building_id,
    a.device_id, a.title_zh, a.title_en, a.value, a.detail, a.first_seen, a.last_seen, a.activated_at, a.acked_at,
    a.acked_by, a.ack_comment, a.assigned_to, a.cleared_at, a.suppressed, a.raised_in_silence, a.silence_id,
    a.returned_at, a.self_clearing""")


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
    raised_in_silence: bool
    silence_id: int | None
    returned_at: datetime | None
    self_clearing: bool

    @property
    def latched(self) -> bool:
        """Active and unacknowledged although its condition returned to normal (at ``returned_at``): it stays
        until someone acknowledges it."""
        return self.returned_at is not None and self.state == ACTIVE

    @property
    def maintenance_in_progress(self) -> bool:
        """Raised during a silence marked as maintenance in progress (a P0 is dispatched all the same)."""
        return bool(self.detail.get("maintenance_in_progress"))


@dataclass(frozen=True)
class AlarmTransition:
    """One recorded state change (``actor`` set for an operator's); ``alarm`` is the alarm as it is now."""

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


@dataclass(frozen=True, slots=True)
class _Locked:
    state: str
    manual_clear: bool
    latched: bool
    self_clearing: bool


def _locked(conn: psycopg.Connection, alarm_id: int) -> _Locked:
    row = conn.execute(
        """SELECT state, manual_clear, returned_at IS NOT NULL AND state = 'active', self_clearing FROM alarms
           WHERE id = %s FOR UPDATE""",
        (alarm_id,),
    ).fetchone()
    if row is None:
        raise AlarmNotFound(f"no alarm {alarm_id}")
    return _Locked(*row)


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
    """Acknowledge an active alarm: someone owns it now. It still clears when its condition ends.

    A latched alarm (its condition already returned to normal) is acknowledged and then cleared: two
    transitions, so dispatch sees the acknowledgement as it does for any other. ``CommentRequired`` for a blank
    comment: the alarm's record must say what the operator did or whom they told (docs/rules.md).
    """
    comment = comment.strip()
    if not comment:
        raise CommentRequired(f"acknowledging alarm {alarm_id} needs a comment: say what was done or who was told")
    with conn.transaction():
        locked = _locked(conn, alarm_id)
        if locked.state != ACTIVE:
            raise InvalidAlarmTransition(
                f"alarm {alarm_id} is {locked.state}; only an active alarm can be acknowledged")
        conn.execute(
            """UPDATE alarms SET state = 'acknowledged', acked_at = now(), acked_by = %s, ack_comment = %s
               WHERE id = %s""",
            (actor, comment, alarm_id),
        )
        _record(conn, alarm_id, ACTIVE, ACKNOWLEDGED, f"acknowledged: {comment}", actor, {"comment": comment})
        if locked.latched:
            _close(conn, alarm_id, ACKNOWLEDGED, "cleared on acknowledgement: it had returned to normal", actor,
                   {"comment": comment})
    return _done(conn, alarm_id)


def _close(conn: psycopg.Connection, alarm_id: int, from_state: str, cause: str, actor: str,
           values: dict[str, Any]) -> None:
    conn.execute("UPDATE alarms SET state = 'cleared', cleared_at = now(), recovering_since = NULL WHERE id = %s",
                 (alarm_id,))
    _record(conn, alarm_id, from_state, CLEARED, cause, actor, values)


def assign(conn: psycopg.Connection, alarm_id: int, *, actor: str, assignee: str, comment: str) -> Alarm:
    """Give an open alarm to ``assignee`` (recorded as a transition to the same state)."""
    with conn.transaction():
        state = _locked(conn, alarm_id).state
        if state == CLEARED:
            raise InvalidAlarmTransition(f"alarm {alarm_id} is cleared; it cannot be assigned")
        conn.execute("UPDATE alarms SET assigned_to = %s WHERE id = %s", (assignee, alarm_id))
        _record(conn, alarm_id, state, state, f"assigned to {assignee}: {comment}", actor,
                {"assignee": assignee, "comment": comment})
    return _done(conn, alarm_id)


def clear(conn: psycopg.Connection, alarm_id: int, *, actor: str, comment: str) -> Alarm:
    """Clear an alarm by hand, if its rule allows it (event-driven rules do; measured conditions do not)."""
    with conn.transaction():
        locked = _locked(conn, alarm_id)
        if locked.state == CLEARED:
            raise InvalidAlarmTransition(f"alarm {alarm_id} is already cleared")
        if locked.latched:
            raise InvalidAlarmTransition(
                f"alarm {alarm_id} returned to normal unacknowledged and stays until acknowledged; acknowledge it")
        if not locked.manual_clear:
            raise InvalidAlarmTransition(
                f"alarm {alarm_id}: its rule does not allow a manual clear; it clears when the condition ends")
        _close(conn, alarm_id, locked.state, f"cleared by hand: {comment}", actor, {"comment": comment})
    return _done(conn, alarm_id)


def close_for_work_order(conn: psycopg.Connection, alarm_ids: Sequence[int], *, actor: str,
                         reason: str) -> list[Alarm]:
    """Clear the alarms of a work order that has closed (or was cancelled or found a false alarm), where nothing
    else would clear them: latched alarms (their condition already returned to normal) and alarms whose rule has
    no clearing event (``self_clearing`` false, e.g. a lift's alarm button). Alarms whose condition can still end
    by itself are left to it, and pending or cleared ones are left alone. Returns the alarms cleared.

    Runs in the caller's transaction when there is one (dispatch calls it from the close of the order), so the
    order and its alarms close together.
    """
    closed = []
    with conn.transaction():
        for alarm_id in sorted(set(alarm_ids)):
            try:
                locked = _locked(conn, alarm_id)
            except AlarmNotFound:
                continue
            if locked.state not in (ACTIVE, ACKNOWLEDGED) or (locked.self_clearing and not locked.latched):
                continue
            why = "its condition had returned to normal" if locked.latched else "its rule has no clearing event"
            _close(conn, alarm_id, locked.state, f"cleared as its work order closed ({why}): {reason}", actor,
                   {"reason": reason})
            closed.append(alarm_id)
    return [_done(conn, alarm_id) for alarm_id in closed]


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
    "InvalidAlarmTransition", "acknowledge", "alarm_history", "assign", "clear", "close_for_work_order", "get_alarm",
    "list_alarms", "page_alarms", "silence", "transitions_since",
]
