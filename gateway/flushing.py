"""The writer thread's side of the gateway: commit a batch, with everything it carries, in one transaction.

A batch is readings, events, latest values (``ingest.writer``), presence, dead letters and seq counters. On a
database error the batch is kept, the connection made again with backoff, and the commit retried, so its
messages stay unacknowledged with the broker until they are stored. After the commit ``on_committed`` runs
(the rules engine); only then may the batch's messages be acknowledged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from gateway.batching import PendingBatch
from gateway.dead_letters import insert_dead_letters
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.presence import apply_presence
from gateway.sequence import SequenceRecorder
from gateway.stats import Counters
from ingest.database import connect
from ingest.records import Batch
from ingest.writer import Writer

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


@dataclass(frozen=True, slots=True)
class Storage:
    """What the writer thread writes with, on one database connection (made again after a reconnect)."""

    writer: Writer
    sequences: SequenceRecorder

    @classmethod
    def connect(cls, database_url: str) -> Storage:
        """A new connection with its writer and sequence recorder."""
        conn = connect(database_url)
        try:
            return cls(Writer(conn), SequenceRecorder(conn))
        except BaseException:
            conn.close()
            raise

    @property
    def conn(self) -> psycopg.Connection:
        return self.writer.conn


class Flusher:
    """Commits batches on the writer thread; see the module docstring. Not thread-safe: one thread owns it."""

    def __init__(self, database_url: str, *, counters: Counters, stopping: threading.Event,
                 on_committed: Callable[[Batch], None] | None = None) -> None:
        self.database_url = database_url
        self.on_committed = on_committed
        self._counters = counters
        self._stopping = stopping
        self._storage: Storage | None = None
        self._directory = DeviceDirectory(database_url)  # for held messages; not shared with the network thread

    def flush(self, pending: PendingBatch) -> bool:
        """Commit ``pending``, retrying across database outages, then run ``on_committed``; ``False`` if
        stopped before it could commit (its messages stay with the broker)."""
        backoff = 0.1
        while True:
            try:
                pending.validate_held(self._directory)
                if self._storage is None or self._storage.conn.closed:
                    self._storage = Storage.connect(self.database_url)
                self._commit(self._storage, pending)
                break
            except (psycopg.Error, DirectoryUnavailable) as exc:
                self._counters.add("database_errors")
                log.warning("flush failed (%s); retrying in %.1f s", type(exc).__name__, backoff)
                self._close_storage()
                # While stopping, give up on a database that is down instead of retrying forever.
                if self._stopping.wait(backoff):
                    return False
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        self._after_commit(pending)
        return True

    def close(self) -> None:
        """Close the writer's and the registry's connections."""
        self._directory.close()
        self._close_storage()

    def _close_storage(self) -> None:
        if self._storage is not None:
            self._storage.conn.close()
        self._storage = None

    def _commit(self, storage: Storage, pending: PendingBatch) -> None:
        conn = storage.conn
        with conn.transaction():
            # A new Batch each attempt: a retried flush must not carry the presence events twice.
            batch = Batch(pending.batch.samples, pending.batch.events + apply_presence(conn, pending.presence))
            result = storage.writer.add(batch)
            insert_dead_letters(conn, pending.dead_letters)
            delta = storage.sequences.record(pending.sequences)
        pending.batch = batch
        # Counted per batch, once committed, rather than under a lock for every message.
        self._counters.add_all(
            {
                "received": pending.accepted + pending.rejected.total(),
                "accepted": pending.accepted,
                "samples": result.samples,
                "events": result.events,
                "batches": 1,
                "gaps": delta.gaps,
                "missing": delta.missing,
                "replays": delta.replays,
            },
            pending.rejected,
        )

    def _after_commit(self, pending: PendingBatch) -> None:
        if self.on_committed is None:
            return
        try:
            self.on_committed(pending.batch)
        except Exception as exc:
            # The data is committed; failing to ack would only cause a redelivery the DB ignores.
            self._counters.add("on_committed_errors")
            log.error("on_committed hook failed: %s", type(exc).__name__)
