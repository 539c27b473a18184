"""Silences and maintenance windows: the windows in which alarms of a device, building or site start muted
(matched against alarms by ``rules.suppression.Silencer``), and the operator's side of them: create, list, end.

A window is one-off (``starts_at``..``ends_at``) or recurring with an RFC 5545 RRULE subset:
``FREQ=DAILY`` or ``FREQ=WEEKLY`` with optional ``BYDAY=MO,WE`` and ``UNTIL=20261231T000000Z``; ``starts_at``
and ``ends_at`` are then the first occurrence. Weekdays are those of ``starts_at`` in UTC (China keeps no
daylight saving, so a local window is a fixed UTC window).

Every silence expires: a window lasts at most ``MAX_WINDOW``, and a recurring one needs an ``UNTIL`` at most
``MAX_SERIES`` after its first occurrence. A forgotten silence would otherwise hide a device for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ingest import registry
from rules.errors import InvalidSilence, SilenceEnded, SilenceNotFound

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY = timedelta(days=1)
SCOPE_TYPES = ("device", "building", "site")
# A week covers a lift's modernisation step or a pump overhaul; longer outages are a device out of service.
MAX_WINDOW = timedelta(days=7)
# A maintenance calendar is agreed for a year at a time (the annual maintenance contract).
MAX_SERIES = timedelta(days=366)
# How long an ended or expired silence stays in the list.
RECENT = timedelta(hours=24)
# The alarms shown with each silence in a list (the newest; ``matched_total`` counts them all).
MATCHED_SHOWN = 100

SilenceStatus = Literal["scheduled", "active", "ended", "expired"]


@dataclass(frozen=True, slots=True)
class Recurrence:
    freq: str
    byday: frozenset[int] = frozenset()
    until: datetime | None = None


def parse_recurrence(text: str) -> Recurrence:
    """Parse the supported RRULE subset; ``InvalidSilence`` names the bad part."""
    parts: dict[str, str] = {}
    for part in text.strip().removeprefix("RRULE:").split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            raise InvalidSilence(f"recurrence part {part!r} is not KEY=VALUE", field="recurrence")
        parts[key.upper()] = value.upper()
    unknown = set(parts) - {"FREQ", "BYDAY", "UNTIL"}
    if unknown:
        raise InvalidSilence(f"unsupported recurrence keys: {', '.join(sorted(unknown))} (use FREQ, BYDAY, UNTIL)",
                             field="recurrence")
    freq = parts.get("FREQ")
    if freq not in ("DAILY", "WEEKLY"):
        raise InvalidSilence(f"FREQ must be DAILY or WEEKLY, got {freq!r}", field="recurrence")
    byday: set[int] = set()
    for day in filter(None, parts.get("BYDAY", "").split(",")):
        if day not in WEEKDAYS:
            raise InvalidSilence(f"BYDAY day {day!r} is not one of {','.join(WEEKDAYS)}", field="recurrence")
        byday.add(WEEKDAYS.index(day))
    if byday and freq != "WEEKLY":
        raise InvalidSilence("BYDAY needs FREQ=WEEKLY", field="recurrence")
    until = None
    if "UNTIL" in parts:
        try:
            until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidSilence(f"UNTIL must look like 20261231T000000Z, got {parts['UNTIL']!r}",
                                 field="recurrence") from None
    return Recurrence(freq, frozenset(byday), until)


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence or maintenance window over a device, building or site, as the engine matches alarms against
    it. ``maintenance`` marks work in progress on the scope; ``ended_at`` is when an operator ended it early."""

    id: int
    scope_type: str
    scope_id: str
    starts_at: datetime
    ends_at: datetime
    recurrence: Recurrence | None
    reason: str
    maintenance: bool = False
    ended_at: datetime | None = None

    def covers(self, ts: datetime) -> bool:
        """Whether ``ts`` falls inside this window (or one of its occurrences) before it was ended."""
        if ts < self.starts_at or (self.ended_at is not None and ts >= self.ended_at):
            return False
        if self.recurrence is None:
            return ts < self.ends_at
        duration = self.ends_at - self.starts_at
        days_in = (ts - self.starts_at) // DAY
        # An occurrence that started up to ``duration`` ago may still be running.
        for back in range(duration // DAY + 2):
            day = days_in - back
            if day < 0:
                break
            start = self.starts_at + day * DAY
            if not self._occurs(day, start):
                continue
            if start <= ts < start + duration:
                return True
        return False

    def _occurs(self, day: int, start: datetime) -> bool:
        rec = self.recurrence
        assert rec is not None
        if rec.until is not None and start > rec.until:
            return False
        if rec.freq == "DAILY":
            return True
        if rec.byday:
            return start.astimezone(UTC).weekday() in rec.byday
        return day % 7 == 0


def load_silences(conn: psycopg.Connection) -> list[Silence]:
    """Every silence on record (the engine is given its own clock, so none is dismissed as past here)."""
    rows = conn.execute(
        """SELECT id, scope_type, scope_id, starts_at, ends_at, recurrence, reason, maintenance, ended_at
           FROM silences ORDER BY id"""
    ).fetchall()
    return [Silence(r[0], r[1], r[2], r[3], r[4], parse_recurrence(r[5]) if r[5] else None, r[6], r[7], r[8])
            for r in rows]


def expiry(starts_at: datetime, ends_at: datetime, recurrence: str | None) -> datetime:
    """When a silence ends for good (its last occurrence's end); ``InvalidSilence`` naming the field when it has
    no end, is reversed, lasts longer than ``MAX_WINDOW`` or recurs without an ``UNTIL`` within ``MAX_SERIES``."""
    if starts_at.tzinfo is None:
        raise InvalidSilence("starts_at must be timezone-aware", field="starts_at")
    if ends_at.tzinfo is None:
        raise InvalidSilence("ends_at must be timezone-aware", field="ends_at")
    if ends_at <= starts_at:
        raise InvalidSilence("ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidSilence(
            f"ends_at: a silence lasts at most {_hours(MAX_WINDOW)} h, this one {_hours(ends_at - starts_at)} h "
            "(take a device out of service for longer work)", field="ends_at")
    if recurrence is None:
        return ends_at
    until = parse_recurrence(recurrence).until
    if until is None:
        raise InvalidSilence("recurrence: a recurring silence needs UNTIL=YYYYMMDDTHHMMSSZ (every silence expires)",
                             field="recurrence")
    if until < starts_at:
        raise InvalidSilence("recurrence: UNTIL is before starts_at", field="recurrence")
    if until - starts_at > MAX_SERIES:
        raise InvalidSilence(f"recurrence: UNTIL may be at most {MAX_SERIES.days} days after starts_at",
                             field="recurrence")
    try:
        return until + (ends_at - starts_at)
    except OverflowError:
        raise InvalidSilence("recurrence: the last occurrence ends after the year 9999", field="recurrence") from None


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}"


def scope_site(conn: psycopg.Connection, scope_type: str, scope_id: str) -> str | None:
    """The site a silence scope lies in, ``None`` when the scope names nothing known."""
    if scope_type == "site":
        return scope_id if registry.get_site(conn, scope_id) is not None else None
    if scope_type == "building":
        return next((b.site_id for b in registry.list_buildings(conn) if b.id == scope_id), None)
    device = registry.get_device(conn, scope_id)
    return device.site_id if device else None


def silence(conn: psycopg.Connection, *, scope_type: Literal["device", "building", "site"], scope_id: str,
            starts_at: datetime, ends_at: datetime, actor: str, reason: str, recurrence: str | None = None,
            maintenance: bool = False) -> int:
    """Record a silence or maintenance window; alarms starting inside it are stored as suppressed, except P0
    (life-safety) alarms, which are raised and dispatched and marked ``raised_in_silence``.

    ``recurrence`` is ``FREQ=DAILY`` or ``FREQ=WEEKLY[;BYDAY=MO,WE]`` with ``;UNTIL=20261231T000000Z`` (required).
    ``maintenance`` says work is in progress on the scope. Returns the silence id; running engines pick it up
    within their reload interval. ``InvalidSilence`` names the field at fault.
    """
    if scope_type not in SCOPE_TYPES:
        raise InvalidSilence(f"scope_type must be device, building or site, got {scope_type!r}", field="scope_type")
    expires_at = expiry(starts_at, ends_at, recurrence)
    site_id = scope_site(conn, scope_type, scope_id)
    if site_id is None:
        raise InvalidSilence(f"scope_id: no {scope_type} {scope_id!r}", field="scope_id")
    with conn.transaction():
        row = conn.execute(
            """INSERT INTO silences (scope_type, scope_id, site_id, starts_at, ends_at, expires_at, recurrence,
                                     maintenance, actor, reason)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (scope_type, scope_id, site_id, starts_at, ends_at, expires_at, recurrence, maintenance, actor, reason),
        ).fetchone()
    assert row is not None
    return row[0]


@dataclass(frozen=True, slots=True)
class MatchedAlarm:
    """An alarm that started inside a silence: muted (``suppressed``) or, for a P0, raised all the same."""

    id: int
    rule_id: str
    severity: str
    state: str
    device_id: str | None
    building_id: str | None
    first_seen: datetime
    suppressed: bool
    latched: bool


@dataclass(frozen=True, slots=True)
class SilenceRecord:
    """A silence as operators see it: its window, who set and who ended it, its status at the time asked, and
    the alarms that started inside it (the newest ``MATCHED_SHOWN``; ``matched_total`` counts all)."""

    id: int
    scope_type: str
    scope_id: str
    site_id: str | None
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None
    expires_at: datetime
    maintenance: bool
    reason: str
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    status: SilenceStatus
    matched: tuple[MatchedAlarm, ...]
    matched_total: int


_SILENCE_COLUMNS = sql.SQL("""s.id, s.scope_type, s.scope_id, s.site_id, s.starts_at, s.ends_at, s.recurrence,
    s.expires_at, s.maintenance, s.reason, s.actor AS created_by, s.created_at, s.ended_at, s.ended_by, s.end_reason""")


def _status(row: dict[str, Any], now: datetime) -> SilenceStatus:
    if row["ended_at"] is not None and row["ended_at"] <= now:
        return "ended"
    if now >= row["expires_at"]:
        return "expired"
    recurrence = parse_recurrence(row["recurrence"]) if row["recurrence"] else None
    window = Silence(row["id"], row["scope_type"], row["scope_id"], row["starts_at"], row["ends_at"], recurrence,
                     row["reason"], ended_at=row["ended_at"])
    return "active" if window.covers(now) else "scheduled"


def _matched(conn: psycopg.Connection, silence_ids: Sequence[int]) -> dict[int, tuple[list[MatchedAlarm], int]]:
    rows = conn.execute(
        """SELECT silence_id, id, rule_id, severity, state, device_id, building_id, first_seen, suppressed,
                  returned_at IS NOT NULL, total
           FROM (SELECT a.*, row_number() OVER w AS n, count(*) OVER (PARTITION BY silence_id) AS total
                 FROM alarms a WHERE silence_id = ANY(%s)
                 WINDOW w AS (PARTITION BY silence_id ORDER BY id DESC)) ranked
           WHERE n <= %s ORDER BY silence_id, id DESC""",
        (list(silence_ids), MATCHED_SHOWN),
    ).fetchall()
    found: dict[int, tuple[list[MatchedAlarm], int]] = {}
    for row in rows:
        alarms, _ = found.setdefault(row[0], ([], row[-1]))
        alarms.append(MatchedAlarm(*row[1:-1]))
    return found


def _records(conn: psycopg.Connection, rows: list[dict[str, Any]], now: datetime) -> list[SilenceRecord]:
    matched = _matched(conn, [row["id"] for row in rows])
    records = []
    for row in rows:
        alarms, total = matched.get(row["id"], ([], 0))
        records.append(SilenceRecord(**row, status=_status(row, now), matched=tuple(alarms), matched_total=total))
    return records


def _select(conn: psycopg.Connection, query: sql.Composable, params: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def get_silence(conn: psycopg.Connection, silence_id: int, *, now: datetime | None = None) -> SilenceRecord | None:
    """One silence with its matched alarms, or ``None``."""
    rows = _select(conn, sql.SQL("SELECT {} FROM silences s WHERE s.id = %s").format(_SILENCE_COLUMNS),
                   (silence_id,))
    return _records(conn, rows, now or datetime.now(UTC))[0] if rows else None


_LISTED = sql.SQL("""(%(sites)s::text[] IS NULL OR s.site_id = ANY(%(sites)s))
    AND least(s.expires_at, coalesce(s.ended_at, 'infinity')) > %(since)s""")


def page_silences(conn: psycopg.Connection, *, sites: Sequence[str] | None, now: datetime | None = None,
                  recent: timedelta = RECENT, limit: int, offset: int) -> tuple[list[SilenceRecord], int]:
    """Silences that are scheduled, active, or ended or expired within ``recent`` before ``now``, newest first,
    each with the alarms it matched; and how many there are in all. ``sites=None`` is every site, ``[]`` none
    (a building or device silence recorded before silences kept their site is listed for every site only)."""
    now = now or datetime.now(UTC)
    params = {"sites": list(sites) if sites is not None else None, "since": now - recent,
              "limit": limit, "offset": offset}
    total_row = conn.execute(sql.SQL("SELECT count(*) FROM silences s WHERE {}").format(_LISTED), params).fetchone()
    query = sql.SQL("SELECT {} FROM silences s WHERE {} ORDER BY s.id DESC LIMIT %(limit)s OFFSET %(offset)s")
    rows = _select(conn, query.format(_SILENCE_COLUMNS, _LISTED), params)
    return _records(conn, rows, now), total_row[0] if total_row else 0


def end_silence(conn: psycopg.Connection, silence_id: int, *, actor: str, reason: str,
                now: datetime | None = None) -> SilenceRecord:
    """End a silence now: alarms starting from now on are not muted by it, and the alarms it muted that are still
    open are released by the running engine (dispatch opens their work orders). ``SilenceNotFound`` for an unknown
    id, ``SilenceEnded`` when it has already ended or expired."""
    now = now or datetime.now(UTC)
    with conn.transaction():
        row = conn.execute("SELECT expires_at, ended_at FROM silences WHERE id = %s FOR UPDATE",
                           (silence_id,)).fetchone()
        if row is None:
            raise SilenceNotFound(f"no silence {silence_id}")
        expires_at, ended_at = row
        if ended_at is not None:
            raise SilenceEnded(f"silence {silence_id} was already ended at {ended_at.isoformat()}")
        if expires_at <= now:
            raise SilenceEnded(f"silence {silence_id} expired at {expires_at.isoformat()}")
        conn.execute("UPDATE silences SET ended_at = %s, ended_by = %s, end_reason = %s WHERE id = %s",
                     (now, actor, reason, silence_id))
    record = get_silence(conn, silence_id, now=now)
    assert record is not None
    return record
