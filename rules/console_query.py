"""The alarm console's reading of ``alarms``: the open alarms (latched ones included), or the cleared ones, narrowed
by severity, estate, building, category, view and a search, one page at a time with the total, and the counts per
severity the console shows in its header.

Latching needs nothing here: the engine keeps a P0/P1 that returns to normal unacknowledged ``active`` with
``returned_at`` set (``rules.lifecycle``), so "open" (not cleared) already holds it until it is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import psycopg
from psycopg import sql

from rules.alarms import ALARM_COLUMNS, Alarm
from rules.categories import SEVERITIES

# all: every open alarm; unacked: active, latched ones included; latched: returned to normal unacknowledged;
# acknowledged: someone owns it; shelved: raised inside a silence (muted, or a P0 raised all the same) or its
# device, building or estate is under a one-off silence now (an operator shelved it after it fired);
# history: the cleared alarms, most recently cleared first.
ConsoleView = Literal["all", "unacked", "latched", "acknowledged", "shelved", "history"]
VIEWS: tuple[str, ...] = ("all", "unacked", "latched", "acknowledged", "shelved", "history")

_VIEW_SQL = {
    "all": sql.SQL("a.state <> 'cleared'"),
    "unacked": sql.SQL("a.state = 'active'"),
    "latched": sql.SQL("a.state = 'active' AND a.returned_at IS NOT NULL"),
    "acknowledged": sql.SQL("a.state = 'acknowledged'"),
    "shelved": sql.SQL("a.state <> 'cleared' AND (a.silence_id IS NOT NULL OR a.suppressed OR {} IS NOT NULL)"),
    "history": sql.SQL("a.state = 'cleared' AND a.cleared_at > now() - %(history)s::interval"),
}
# How far back the history view reaches: a shift's look back over the last month (the project's choice; the
# alarm table has no index on cleared_at, so the window also bounds the scan).
HISTORY = timedelta(days=30)
_OPEN_ORDER = sql.SQL("a.severity, a.state = 'acknowledged', a.last_seen DESC, a.id DESC")
_ORDER = {view: _OPEN_ORDER for view in VIEWS} | {"history": sql.SQL("a.cleared_at DESC, a.id DESC")}
# The one-off silence covering an alarm's scope now, the longest-running first. Recurring silences are left to
# ``silence_id`` (whether one covers now takes its RRULE, which rules.silences evaluates in Python).
_SHELF = sql.SQL("""(SELECT s.id FROM silences s
    WHERE s.recurrence IS NULL AND s.ended_at IS NULL AND s.starts_at <= now() AND now() < s.expires_at
      AND ((s.scope_type = 'device' AND s.scope_id = a.device_id)
           OR (s.scope_type = 'building' AND s.scope_id = a.building_id)
           OR (s.scope_type = 'site' AND s.scope_id = a.site_id))
    ORDER BY s.expires_at DESC, s.id DESC LIMIT 1)""")
_VIEW_SQL["shelved"] = _VIEW_SQL["shelved"].format(_SHELF)
# What rules.alarms.clear accepts: an open alarm whose rule allows a manual clear, not latched (only acknowledging
# clears that).
_CLEARABLE = sql.SQL("""(a.state <> 'cleared' AND a.manual_clear
    AND NOT (a.state = 'active' AND a.returned_at IS NOT NULL))""")

_FILTER = sql.SQL("""(%(sites)s::text[] IS NULL OR a.site_id = ANY(%(sites)s))
    AND (%(severities)s::text[] IS NULL OR a.severity = ANY(%(severities)s))
    AND (%(building)s::text IS NULL OR a.building_id = %(building)s)
    AND (%(category)s::text IS NULL OR a.category = %(category)s)
    AND (%(search)s::text IS NULL OR a.title_zh ILIKE %(search)s OR a.title_en ILIKE %(search)s
         OR a.device_id ILIKE %(search)s OR a.building_id ILIKE %(search)s
         OR a.device_id = ANY(%(named_devices)s) OR a.building_id = ANY(%(named_buildings)s))""")


@dataclass(frozen=True)
class ConsoleFilter:
    """What the console is narrowed to; ``None`` fields match everything. ``sites=None`` means every site and an
    empty ``sites`` matches nothing. ``search`` is matched (case-insensitively, as a substring) against the
    titles, device id and building id; ``named_devices`` / ``named_buildings`` are ids whose names matched it
    (names live in the registry, which the caller reads)."""

    sites: Sequence[str] | None
    severities: Sequence[str] | None = None
    building_id: str | None = None
    category: str | None = None
    view: ConsoleView = "all"
    search: str | None = None
    named_devices: Sequence[str] = ()
    named_buildings: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class SeverityCount:
    """Open alarms of one severity, and how many of them nobody has acknowledged yet (latched ones included)."""

    severity: str
    open: int
    unacked: int


def _params(where: ConsoleFilter) -> dict[str, object]:
    return {"history": HISTORY, "sites": list(where.sites) if where.sites is not None else None,
            "severities": list(where.severities) if where.severities else None,
            "building": where.building_id, "category": where.category,
            "search": f"%{_escape_like(where.search)}%" if where.search else None,
            "named_devices": list(where.named_devices), "named_buildings": list(where.named_buildings)}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class ConsoleRow:
    """An alarm on the console, the silence shelving it (the one it was raised in, or a one-off silence over its
    scope now) if any, and whether an operator may clear it by hand (its rule allows it and it is not latched)."""

    alarm: Alarm
    shelf_id: int | None
    clearable: bool


def page_console(conn: psycopg.Connection, where: ConsoleFilter, *, limit: int,
                 offset: int) -> tuple[list[ConsoleRow], int]:
    """One page of the alarms matching ``where`` and the number matching in all. Open alarms come most severe
    first, then unacknowledged before acknowledged, then most recently seen; the history most recently cleared
    first."""
    params = {**_params(where), "limit": limit, "offset": offset}
    condition = sql.SQL("{} AND {}").format(_FILTER, _VIEW_SQL[where.view])
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("""SELECT {}, coalesce(a.silence_id, {}), {}, count(*) OVER () FROM alarms a WHERE {}
                ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s""").format(ALARM_COLUMNS, _SHELF, _CLEARABLE, condition,
                                                                          _ORDER[where.view]),
            params,
        )
        rows = cur.fetchall()
        if rows:
            return [ConsoleRow(Alarm(*row[:-3]), row[-3], row[-2]) for row in rows], rows[0][-1]
        if offset == 0:
            return [], 0
        # Past the last match the window has no row to ride on, so the total is counted on its own.
        cur.execute(sql.SQL("SELECT count(*) FROM alarms a WHERE {}").format(condition), params)
        row = cur.fetchone()
        return [], row[0] if row else 0


def clearable(conn: psycopg.Connection, alarm_id: int) -> bool:
    """Whether an operator may clear the open alarm ``alarm_id`` by hand now (``rules.alarms.clear`` would)."""
    row = conn.execute(sql.SQL("SELECT {} FROM alarms a WHERE a.id = %s").format(_CLEARABLE), (alarm_id,)).fetchone()
    return bool(row and row[0])


def severity_counts(conn: psycopg.Connection, *, sites: Sequence[str] | None) -> list[SeverityCount]:
    """Open and unacknowledged alarms per severity in ``sites`` (``None``: every site), every severity listed."""
    rows = conn.execute(
        """SELECT a.severity, count(*), count(*) FILTER (WHERE a.state = 'active') FROM alarms a
           WHERE a.state <> 'cleared' AND (%(sites)s::text[] IS NULL OR a.site_id = ANY(%(sites)s))
           GROUP BY a.severity""",
        {"sites": list(sites) if sites is not None else None},
    ).fetchall()
    found = {row[0]: (row[1], row[2]) for row in rows}
    return [SeverityCount(s, *found.get(s, (0, 0))) for s in SEVERITIES]
