"""The engine's database side: versioned rule packs, open alarms, and one write per batch of changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from ingest.registry import device_count
from rules.kinds import KINDS
from rules.lifecycle import Change, OpenAlarm, OperatorAction
from rules.loader import default_pack, parse_pack
from rules.model import RulePack

CHANNEL = "pw_alarms"


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    """An open alarm row as the engine reloads it after a restart."""

    id: int
    fingerprint: str
    rule_id: str
    state: str
    first_seen: datetime
    last_seen: datetime
    value: float | None
    detail: dict[str, Any]
    activated_at: datetime | None
    recovering_since: datetime | None
    suppressed: bool
    raised_in_silence: bool
    silence_id: int | None
    returned_at: datetime | None


def publish_pack(conn: psycopg.Connection, text: str, *, actor: str) -> tuple[str, int]:
    """Validate a pack (overlaying the defaults) and store it as the next version of its name.

    Raises ``rules.errors.RulePackError`` if invalid. Running engines pick it up within their reload interval.
    """
    pack = parse_pack(text, "<published>", base=default_pack())
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('rule_packs'), hashtext(%s))", (pack.name,))
        row = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM rule_packs WHERE name = %s",
                           (pack.name,)).fetchone()
        version = row[0] if row else 1
        conn.execute("INSERT INTO rule_packs (name, version, body, created_by) VALUES (%s, %s, %s, %s)",
                     (pack.name, version, text, actor))
    return pack.name, version


def pack_text(conn: psycopg.Connection, name: str) -> str | None:
    """The YAML text of the newest active version of the stored pack ``name``, or ``None`` when there is none
    (an editor adds to it and publishes the whole pack again)."""
    row = conn.execute("SELECT body FROM rule_packs WHERE name = %s AND active ORDER BY version DESC LIMIT 1",
                       (name,)).fetchone()
    return row[0] if row else None


def effective_pack(conn: psycopg.Connection, base: RulePack | None = None) -> RulePack:
    """``base`` (default: the default pack) with the latest active version of every stored pack laid over it,
    oldest first."""
    base = base or default_pack()
    rows = conn.execute(
        """SELECT DISTINCT ON (name) id, name, version, body FROM rule_packs WHERE active
           ORDER BY name, version DESC"""
    ).fetchall()
    pack = base
    for row in sorted(rows, key=lambda r: r[0]):
        pack = pack.merged(parse_pack(row[3], f"db:{row[1]}@v{row[2]}", base=base))
    return pack


def change_marks(conn: psycopg.Connection) -> tuple[int, int, int, int]:
    """Cheap markers that move when packs, silences (a new one, or one ended) or the device registry change."""
    row = conn.execute(
        """SELECT (SELECT coalesce(max(id), 0) FROM rule_packs), (SELECT coalesce(max(id), 0) FROM silences),
                  (SELECT count(*) FROM silences WHERE ended_at IS NOT NULL)"""
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], device_count(conn)


def open_alarms(conn: psycopg.Connection, sites: Sequence[str] = ()) -> list[StoredAlarm]:
    """Every alarm that is not cleared (pending timers included), of ``sites`` only if any are given."""
    rows = conn.execute(
        """SELECT id, fingerprint, rule_id, state, first_seen, last_seen, value, detail, activated_at,
                  recovering_since, suppressed, raised_in_silence, silence_id, returned_at
           FROM alarms WHERE state <> 'cleared' AND (cardinality(%(sites)s::text[]) = 0 OR site_id = ANY(%(sites)s))
           ORDER BY id""",
        {"sites": list(sites)},
    ).fetchall()
    return [StoredAlarm(*row) for row in rows]


def replay_marks(conn: psycopg.Connection) -> dict[str, datetime]:
    """Per fingerprint, the newest data time its alarms consumed (last seen, returned to normal or cleared), so
    that a batch redelivered to a restarted engine cannot raise again an alarm that was already raised and
    cleared (or latched)."""
    rows = conn.execute(
        """SELECT fingerprint, max(greatest(last_seen, cleared_at, returned_at)) FROM alarms
           GROUP BY fingerprint"""
    ).fetchall()
    return dict(rows)


def last_transition_id(conn: psycopg.Connection) -> int:
    """The newest transition id (the engine follows operator actions after it)."""
    row = conn.execute("SELECT coalesce(max(id), 0) FROM alarm_transitions").fetchone()
    return row[0] if row else 0


def operator_actions(conn: psycopg.Connection, after_id: int) -> list[OperatorAction]:
    """Transitions with an actor recorded after ``after_id``."""
    rows = conn.execute(
        """SELECT id, alarm_id, to_state FROM alarm_transitions WHERE id > %s AND actor IS NOT NULL
           ORDER BY id""",
        (after_id,),
    ).fetchall()
    return [OperatorAction(*row) for row in rows]


_INSERT_ALARM = """
INSERT INTO alarms (fingerprint, rule_id, category, severity, state, site_id, building_id, device_id, title_zh,
                    title_en, value, detail, first_seen, last_seen, activated_at, cleared_at, recovering_since,
                    suppressed, manual_clear, raised_in_silence, silence_id, returned_at, self_clearing)
VALUES (%(fingerprint)s, %(rule_id)s, %(category)s, %(severity)s, %(state)s, %(site_id)s, %(building_id)s,
        %(device_id)s, %(title_zh)s, %(title_en)s, %(value)s, %(detail)s, %(first_seen)s, %(last_seen)s,
        %(activated_at)s, %(cleared_at)s, %(recovering_since)s, %(suppressed)s, %(manual_clear)s,
        %(raised_in_silence)s, %(silence_id)s, %(returned_at)s, %(self_clearing)s)
ON CONFLICT (fingerprint) WHERE state <> 'cleared' DO NOTHING
RETURNING id
"""

# An operator's acknowledgement must survive the engine re-writing an alarm it still believes active, and a
# manually cleared row is never re-opened by a late write.
_UPDATE_ALARM = """
UPDATE alarms SET
    state = CASE WHEN state = 'acknowledged' AND %(state)s = 'active' THEN state ELSE %(state)s END,
    value = %(value)s, detail = %(detail)s, last_seen = greatest(last_seen, %(last_seen)s),
    activated_at = coalesce(activated_at, %(activated_at)s), cleared_at = %(cleared_at)s,
    recovering_since = %(recovering_since)s, suppressed = %(suppressed)s,
    raised_in_silence = %(raised_in_silence)s, silence_id = %(silence_id)s, returned_at = %(returned_at)s
WHERE id = %(id)s AND state <> 'cleared'
"""

_INSERT_TRANSITION = """
INSERT INTO alarm_transitions (alarm_id, from_state, to_state, at, cause, suppressed, vals)
VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id
"""


def _row(alarm: OpenAlarm) -> dict[str, Any]:
    rule = alarm.rule
    return {
        "id": alarm.id, "fingerprint": alarm.fingerprint, "rule_id": rule.id, "category": rule.category,
        "severity": rule.severity, "state": alarm.state, "site_id": alarm.site_id,
        "building_id": alarm.building_id, "device_id": alarm.device_id, "title_zh": rule.title_zh,
        "title_en": rule.title_en, "value": alarm.value, "detail": Jsonb(alarm.detail),
        "first_seen": alarm.first_seen, "last_seen": alarm.last_seen, "activated_at": alarm.activated_at,
        "cleared_at": alarm.cleared_at, "recovering_since": alarm.recovering_since,
        "suppressed": alarm.suppressed, "manual_clear": rule.manual_clear,
        "raised_in_silence": alarm.raised_in_silence, "silence_id": alarm.silence_id,
        "returned_at": alarm.returned_at, "self_clearing": KINDS[rule.kind].clears_itself(rule),
    }


def _notice(transition_id: int, alarm_id: int, change: Change) -> str:
    alarm = change.alarm
    return orjson.dumps({
        "transition_id": transition_id, "alarm_id": alarm_id, "fingerprint": alarm.fingerprint,
        "rule_id": alarm.rule.id, "category": alarm.rule.category, "severity": alarm.rule.severity,
        "site_id": alarm.site_id, "building_id": alarm.building_id, "device_id": alarm.device_id,
        "from": change.from_state, "to": change.to_state, "at": change.at.isoformat(),
        "suppressed": alarm.suppressed, "raised_in_silence": alarm.raised_in_silence,
        "latched": alarm.returned_at is not None,
    }).decode()


def write_changes(conn: psycopg.Connection, changes: list[Change], alarms: list[OpenAlarm]) -> int:
    """Write new and changed alarms, their transitions and one NOTIFY per transition, in one transaction.

    Returns the number of transitions written. A new alarm whose fingerprint is already open in the database
    (another engine, or a lost reply) adopts that row instead of duplicating it.
    """
    if not changes and not alarms:
        return 0
    new = [a for a in alarms if a.id is None]
    old = [a for a in alarms if a.id is not None]
    # Ids are handed to the alarms only once the transaction commits, so a failed write can be retried as is.
    ids: dict[OpenAlarm, int] = {a: a.id for a in old if a.id is not None}
    with conn.transaction(), conn.cursor() as cur:
        if new:
            cur.executemany(_INSERT_ALARM, [_row(a) for a in new], returning=True)
            adopted = []
            for alarm in new:
                row = cur.fetchone()
                if row is not None:
                    ids[alarm] = row[0]
                else:
                    adopted.append(alarm)
                cur.nextset()
            for alarm in adopted:
                found = conn.execute("SELECT id FROM alarms WHERE fingerprint = %s AND state <> 'cleared'",
                                     (alarm.fingerprint,)).fetchone()
                if found:
                    ids[alarm] = found[0]
                    old.append(alarm)
        if old:
            cur.executemany(_UPDATE_ALARM, [{**_row(a), "id": ids[a]} for a in old if a in ids])
        if changes:
            cur.executemany(
                _INSERT_TRANSITION,
                [(ids[c.alarm], c.from_state, c.to_state, c.at, c.cause, c.alarm.suppressed, Jsonb(c.values))
                 for c in changes],
                returning=True,
            )
            notices = []
            for change in changes:
                row = cur.fetchone()
                assert row is not None
                notices.append((CHANNEL, _notice(row[0], ids[change.alarm], change)))
                cur.nextset()
            cur.executemany("SELECT pg_notify(%s, %s)", notices)
    for alarm in alarms:
        if alarm in ids:
            alarm.id = ids[alarm]
        alarm.persisted_seen = alarm.last_seen
    return len(changes)
