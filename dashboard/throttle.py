"""Sign-in throttling that cannot be turned against a user.

Failures are counted per (username, source address) and per source address, never per username alone: a flood
of wrong passwords from one address delays that address, and the real user signing in from anywhere else is not
affected. Within a window of 15 minutes:

* the first ``FREE_PER_ACCOUNT`` failures for one username from one source cost nothing; after that each attempt
  waits 1, 2, 4, 8 … seconds after the previous failure (at most 15 minutes);
* the first ``FREE_PER_SOURCE`` failures from one source, over all usernames, cost nothing; after that the same
  growing delays apply to every attempt from that source, so spraying one password over many usernames slows to
  a crawl.

An attempt is stored as a failure before its password is checked, under a lock per source taken for the decision
(``admit``), and deleted when it succeeds: concurrent guesses from one source are decided one after another and
each sees the ones before it, so no more than the free allowance reach the check at once. IPv6 sources count
per /64 network, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

WINDOW = timedelta(minutes=15)
FREE_PER_ACCOUNT = 5
FREE_PER_SOURCE = 20
MAX_DELAY = timedelta(minutes=15)


@dataclass(frozen=True)
class Counts:
    """Failures within the window and when the last one happened, for one (username, source) and one source, as
    of the database's clock ``now``."""

    now: datetime
    account: int
    account_last: datetime | None
    source: int
    source_last: datetime | None


def source_key(address: str | None) -> str:
    """The key a client address is counted under: the address itself, or its /64 network for IPv6."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def delay(failures: int, free: int) -> timedelta:
    """How long after the last failure the next attempt must wait: nothing while fewer than ``free`` failures
    are counted, then 1 s doubling per failure up to ``MAX_DELAY``."""
    over = failures - free
    if over < 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(over, 20)), MAX_DELAY)


def admit(conn: psycopg.Connection, username: str, source: str) -> tuple[int, int | None]:
    """Decide an attempt of ``username`` from ``source``: (0, attempt id) when its password may be checked, the
    attempt then counted as failed until ``failed`` or ``succeeded`` says how it ended; (seconds to wait, None)
    otherwise. Holds a lock on ``source`` until the caller's transaction ends, which must be at once."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"web_login:{source}",))
    wait = wait_seconds(counts(conn, username, source))
    if wait > 0:
        return wait, None
    return 0, start_attempt(conn, username, source)


def counts(conn: psycopg.Connection, username: str, source: str) -> Counts:
    """The failures that throttle ``username`` from ``source`` now."""
    row = conn.execute(
        """SELECT clock_timestamp(), count(*) FILTER (WHERE username = %(user)s),
                  max(at) FILTER (WHERE username = %(user)s), count(*), max(at)
           FROM web_login_failures WHERE source = %(source)s AND at > clock_timestamp() - %(window)s""",
        {"user": username, "source": source, "window": WINDOW},
    ).fetchone()
    assert row is not None
    return Counts(*row)


def wait_seconds(found: Counts) -> int:
    """Whole seconds to wait before the next attempt may be checked; 0 when it may be checked now."""
    waits = [timedelta(0)]
    if found.account_last is not None:
        waits.append(found.account_last + delay(found.account, FREE_PER_ACCOUNT) - found.now)
    if found.source_last is not None:
        waits.append(found.source_last + delay(found.source, FREE_PER_SOURCE) - found.now)
    return math.ceil(max(waits).total_seconds())


def start_attempt(conn: psycopg.Connection, username: str, source: str) -> int:
    """Count an attempt as failed until ``failed`` or ``succeeded`` says how it ended; returns its id. Forgets
    attempts older than a day."""
    row = conn.execute("INSERT INTO web_login_failures (username, source, at) VALUES (%s, %s, clock_timestamp())"
                       " RETURNING id", (username, source)).fetchone()
    conn.execute("DELETE FROM web_login_failures WHERE at < now() - interval '1 day'")
    assert row is not None
    return int(row[0])


def failed(conn: psycopg.Connection, attempt: int) -> None:
    """The attempt failed: its delay counts from now, when the password check ended."""
    conn.execute("UPDATE web_login_failures SET at = clock_timestamp() WHERE id = %s", (attempt,))


def succeeded(conn: psycopg.Connection, username: str, source: str) -> None:
    """Forget the failures of ``username`` from ``source`` after a good password (other sources keep theirs)."""
    conn.execute("DELETE FROM web_login_failures WHERE username = %s AND source = %s", (username, source))
