"""The gateway's housekeeping thread: it reports each session's status and the gateway's counters
(``gateway.health``) every few seconds and prunes the dead letters (``gateway.dead_letters.prune_dead_letters``)
every ``prune_interval_s``, on a connection of its own, so neither waits for the writer or delays it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import psycopg

from gateway.crash import OnCrash, guarded_thread
from gateway.dead_letters import DeadLetterPolicy, prune_dead_letters
from gateway.health import SessionStatus, remove_status, report_counts, report_status
from gateway.stats import GatewayStats
from ingest.database import connect

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 2.0


class Housekeeper:
    """Runs the housekeeping thread; ``statuses()`` gives the sessions' current status on each round, and
    ``stats()``, when given, the counters reported under ``client_id``."""

    def __init__(self, database_url: str, *, statuses: Callable[[], Sequence[SessionStatus]],
                 dead_letters: DeadLetterPolicy, on_crash: OnCrash,
                 report_interval_s: float = REPORT_INTERVAL_S,
                 stats: Callable[[], GatewayStats] | None = None, client_id: str = "") -> None:
        self._url = database_url
        self._statuses = statuses
        self._stats = stats
        self._client_id = client_id
        self._started_at = datetime.now(UTC)
        self._policy = dead_letters
        self._interval = report_interval_s
        self._stopping = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._pruned_at: float | None = None
        self._failing = False
        self._thread = guarded_thread(self._run, name="gateway-housekeeping", on_crash=on_crash)

    def start(self) -> None:
        """Report at once, then every interval."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread and remove the sessions' status: a gateway that stopped cleanly keeps nothing waiting."""
        self._stopping.set()
        self._thread.join(timeout)
        try:
            conn = self._connection()
            self._report_counts(conn)  # the final counts, those of the last batches committed included
            for status in self._statuses():
                remove_status(conn, status.client_id)
        except psycopg.Error as exc:
            log.warning("could not remove the gateway's status rows (%s)", type(exc).__name__)
        finally:
            self._close()

    def _run(self) -> None:
        while True:
            try:
                self._round()
                if self._failing:
                    log.info("gateway housekeeping reaches the database again")
                self._failing = False
            except psycopg.Error as exc:
                if not self._failing:  # once per outage, not every round
                    log.warning("gateway housekeeping failed (%s); retrying every %.0f s", type(exc).__name__,
                                self._interval)
                self._failing = True
                self._close()
            if self._stopping.wait(self._interval):
                return

    def _round(self) -> None:
        conn = self._connection()
        for status in self._statuses():
            report_status(conn, status)
        self._report_counts(conn)
        now = time.monotonic()
        if self._pruned_at is None or now - self._pruned_at >= self._policy.prune_interval_s:
            pruned = prune_dead_letters(conn, max_age=self._policy.max_age, max_rows=self._policy.max_rows)
            self._pruned_at = now
            if pruned:
                log.info("pruned %d dead letters (older than %s or beyond the newest %d)", pruned,
                         self._policy.max_age, self._policy.max_rows)

    def _report_counts(self, conn: psycopg.Connection) -> None:
        if self._stats is not None:
            report_counts(conn, self._client_id, self._started_at, self._stats())

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._url, autocommit=True)
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
