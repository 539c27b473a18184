"""Whether the gateways keep up: each gateway session reports into ``gateway_status`` every few seconds, and
``stalled_gateways`` names those whose messages have waited longer than their ``stall_after`` without a
commit, or that stopped reporting (a dead or hung process whose session the broker keeps filling).

A gateway that stops cleanly removes its row; one killed leaves it, and stays stalled until it runs again.

With its status each gateway reports its counters into ``gateway_counters`` (``report_counts``), so the web
process can show what exists only in the gateway's memory: messages cleared, and dead letters counted beyond
a device's allowance but not stored (``gateway_counts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from gateway.stats import GatewayStats


@dataclass(frozen=True)
class SessionStatus:
    """One gateway session as it reports itself."""

    client_id: str
    waiting: int  # messages received and not yet committed and acknowledged
    stuck_for: timedelta | None  # how long they have waited without a commit; None when none wait
    stall_after: timedelta


@dataclass(frozen=True)
class Stall:
    """A gateway session that is not keeping up, and how."""

    client_id: str
    waiting: int
    silent_for: timedelta  # since its last report
    stuck_for: timedelta | None  # messages waiting without a commit, as of now

    def describe(self) -> str:
        """One line for an operator."""
        if self.stuck_for is not None:
            return (f"{self.client_id}: {self.waiting} messages waiting {self.stuck_for.total_seconds():.0f} s "
                    f"without a commit")
        return f"{self.client_id}: no report for {self.silent_for.total_seconds():.0f} s"


def report_status(conn: psycopg.Connection, status: SessionStatus) -> None:
    """Record ``status`` as the session's latest report."""
    conn.execute(
        """INSERT INTO gateway_status (client_id, reported_at, waiting, stuck_for, stall_after)
           VALUES (%s, now(), %s, %s, %s)
           ON CONFLICT (client_id) DO UPDATE SET reported_at = excluded.reported_at, waiting = excluded.waiting,
               stuck_for = excluded.stuck_for, stall_after = excluded.stall_after""",
        (status.client_id, status.waiting, status.stuck_for, status.stall_after),
    )


def remove_status(conn: psycopg.Connection, client_id: str) -> None:
    """Forget a session that stopped cleanly: nothing waits for it any more."""
    conn.execute("DELETE FROM gateway_status WHERE client_id = %s", (client_id,))


def stalled_gateways(conn: psycopg.Connection) -> list[Stall]:
    """Sessions whose messages have waited longer than their ``stall_after`` without a commit, or that have
    not reported for that long; empty when every gateway keeps up (or none runs)."""
    with conn.cursor(row_factory=class_row(Stall)) as cur:
        cur.execute(
            """SELECT client_id, waiting, now() - reported_at AS silent_for,
                      stuck_for + (now() - reported_at) AS stuck_for
               FROM gateway_status
               WHERE now() - reported_at > stall_after OR stuck_for + (now() - reported_at) > stall_after
               ORDER BY client_id"""
        )
        return cur.fetchall()


@dataclass(frozen=True)
class GatewayCounts:
    """What one gateway process has counted since ``started_at``, as of its last report."""

    client_id: str
    started_at: datetime
    reported_at: datetime
    accepted: int
    rejected: int
    cleared: int
    dead_letters_suppressed: int
    rejected_by_reason: dict[str, int]


def report_counts(conn: psycopg.Connection, client_id: str, started_at: datetime, stats: GatewayStats) -> None:
    """Record the counters of the gateway ``client_id`` (started at ``started_at``) as its latest report."""
    conn.execute(
        """INSERT INTO gateway_counters (client_id, started_at, reported_at, accepted, rejected, cleared,
                                         dead_letters_suppressed, rejected_by_reason)
           VALUES (%s, %s, now(), %s, %s, %s, %s, %s)
           ON CONFLICT (client_id) DO UPDATE SET started_at = excluded.started_at,
               reported_at = excluded.reported_at, accepted = excluded.accepted, rejected = excluded.rejected,
               cleared = excluded.cleared, dead_letters_suppressed = excluded.dead_letters_suppressed,
               rejected_by_reason = excluded.rejected_by_reason""",
        (client_id, started_at, stats.accepted, stats.rejected, stats.cleared, stats.dead_letters_suppressed,
         Jsonb(stats.rejected_by_reason)),
    )


def gateway_counts(conn: psycopg.Connection) -> list[GatewayCounts]:
    """Every gateway's latest counters, by client id."""
    with conn.cursor(row_factory=class_row(GatewayCounts)) as cur:
        cur.execute("""SELECT client_id, started_at, reported_at, accepted, rejected, cleared,
                              dead_letters_suppressed, rejected_by_reason
                       FROM gateway_counters ORDER BY client_id""")
        return cur.fetchall()
