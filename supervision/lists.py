"""Red and black lists (红黑名单, notice clause 21): entries with reason, evidence, effective period and publication.

An entry is in effect while it is published, not revoked, and the day (China time, the list-keeper's calendar)
lies in ``[effective_from, effective_until]`` (open-ended without an end). An unpublished entry is a draft: it
flags nothing. Revocation keeps the entry and records who revoked it, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import class_row

from dispatch.workorders import get_work_order
from ingest.registry import Site
from supervision.companies import get_company
from supervision.errors import Conflict, Invalid, NotFound

LISTS: tuple[str, ...] = ("red", "black")
LIST_TIMEZONE = ZoneInfo(Site.timezone)


class EntryNotFound(NotFound):
    """No list entry has this id."""


class EntryRevoked(Conflict):
    """The entry was revoked; it cannot change any more."""


class InvalidEntry(Invalid):
    """The entry breaks a rule: an unknown list, no reason, an end before its start, evidence that is not there."""


@dataclass(frozen=True)
class ListEntry:
    """One entry of the red or black list about a company."""

    id: int
    company_id: int
    list: str
    reason: str
    evidence: str
    evidence_links: list[str]
    work_order_ids: list[int]
    effective_from: date
    effective_until: date | None
    added_by: str
    added_at: datetime
    published: bool
    published_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    def in_effect(self, at: datetime) -> bool:
        """Whether the entry flags its company at ``at``."""
        day = at.astimezone(LIST_TIMEZONE).date()
        return (self.published and (self.revoked_at is None or self.revoked_at > at)
                and self.effective_from <= day and (self.effective_until is None or day <= self.effective_until))


_COLUMNS = """id, company_id, list, reason, evidence, evidence_links, work_order_ids, effective_from, effective_until,
              added_by, added_at, published, published_at, revoked_at, revoked_by, revoke_reason"""


def add_entry(
    conn: psycopg.Connection,
    *,
    company_id: int,
    list_name: str,
    reason: str,
    effective_from: date,
    added_by: str,
    effective_until: date | None = None,
    evidence: str = "",
    evidence_links: Sequence[str] = (),
    work_order_ids: Sequence[int] = (),
    published: bool = False,
    now: datetime | None = None,
) -> ListEntry:
    """Put a company on the red or black list. Raises ``CompanyNotFound`` and ``InvalidEntry`` (also for a work
    order named as evidence that does not exist, or a link that is not an http(s) address)."""
    now = now or datetime.now(UTC)
    get_company(conn, company_id)
    if list_name not in LISTS:
        raise InvalidEntry(f"list must be red or black, not {list_name!r}")
    if not reason.strip():
        raise InvalidEntry("an entry needs its reason")
    if effective_until is not None and effective_until < effective_from:
        raise InvalidEntry("the entry's end is before its start")
    # links are published: only web addresses, never javascript: or data: links a page would render
    unsafe = [link for link in evidence_links if not link.lower().startswith(("https://", "http://"))]
    if unsafe:
        raise InvalidEntry("evidence links are http(s) addresses")
    missing = [order_id for order_id in work_order_ids if get_work_order(conn, order_id) is None]
    if missing:
        raise InvalidEntry(f"evidence names work orders that do not exist: {missing}")
    with conn.cursor(row_factory=class_row(ListEntry)) as cur:
        return cur.execute(
            f"""INSERT INTO supervision_list_entries (company_id, list, reason, evidence, evidence_links,
                       work_order_ids, effective_from, effective_until, added_by, added_at, published, published_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",  # noqa: S608
            (company_id, list_name, reason.strip(), evidence.strip(), [*evidence_links], [*work_order_ids],
             effective_from, effective_until, added_by, now, published, now if published else None),
        ).fetchone()


def publish_entry(conn: psycopg.Connection, entry_id: int, *, now: datetime | None = None) -> ListEntry:
    """Publish a draft entry (publishing twice keeps the first time). Raises ``EntryNotFound``, ``EntryRevoked``."""
    _live(conn, entry_id)
    return _update(conn, "published = true, published_at = coalesce(published_at, %(now)s)",
                   {"id": entry_id, "now": now or datetime.now(UTC)})


def revoke_entry(conn: psycopg.Connection, entry_id: int, *, reason: str, revoked_by: str,
                 now: datetime | None = None) -> ListEntry:
    """Revoke an entry with the reason. Raises ``EntryNotFound``, ``EntryRevoked`` and ``InvalidEntry``."""
    if not reason.strip():
        raise InvalidEntry("a revocation needs its reason")
    _live(conn, entry_id)
    return _update(conn, "revoked_at = %(now)s, revoked_by = %(by)s, revoke_reason = %(reason)s",
                   {"id": entry_id, "now": now or datetime.now(UTC), "by": revoked_by, "reason": reason.strip()})


def get_entry(conn: psycopg.Connection, entry_id: int) -> ListEntry:
    """An entry by id; raises ``EntryNotFound``."""
    with conn.cursor(row_factory=class_row(ListEntry)) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM supervision_list_entries WHERE id = %s",  # noqa: S608
                            (entry_id,)).fetchone()
    if found is None:
        raise EntryNotFound(f"list entry {entry_id} does not exist")
    return found


def list_entries(conn: psycopg.Connection, company_id: int, *, published_only: bool = False) -> list[ListEntry]:
    """A company's entries, newest first (``published_only``: what the public may see)."""
    with conn.cursor(row_factory=class_row(ListEntry)) as cur:
        return cur.execute(
            f"""SELECT {_COLUMNS} FROM supervision_list_entries
                WHERE company_id = %s AND (published OR NOT %s) ORDER BY added_at DESC, id DESC""",  # noqa: S608
            (company_id, published_only),
        ).fetchall()


def entries_in_effect(conn: psycopg.Connection, company_id: int, at: datetime | None = None) -> list[ListEntry]:
    """The entries that flag a company at ``at`` (default: now)."""
    moment = at or datetime.now(UTC)
    return [e for e in list_entries(conn, company_id, published_only=True) if e.in_effect(moment)]


def _live(conn: psycopg.Connection, entry_id: int) -> ListEntry:
    entry = get_entry(conn, entry_id)
    if entry.revoked_at is not None:
        raise EntryRevoked(f"list entry {entry_id} was revoked at {entry.revoked_at.isoformat()}")
    return entry


def _update(conn: psycopg.Connection, assignments: str, params: dict) -> ListEntry:
    with conn.cursor(row_factory=class_row(ListEntry)) as cur:
        return cur.execute(
            f"UPDATE supervision_list_entries SET {assignments} WHERE id = %(id)s RETURNING {_COLUMNS}",  # noqa: S608
            params,
        ).fetchone()
