"""The writer thread's side of the gateway: commit a batch, with everything it carries, in one transaction.

A batch is readings, events, latest values (``ingest.writer``), presence, dead letters and seq counters. On a
transient error (connection lost, server shutting down: ``ingest.writer.is_transient``) the batch is kept, the
connection made again with backoff, and the commit retried, so its messages stay unacknowledged with the broker
until they are stored. A failure the batch's content causes is never retried as it is: the messages at fault
are found by committing halves of the batch (``ingest.writer.isolate_failures``), dead-lettered with the error
(``storage_failed``) and acknowledged with the rest, which is committed. After the commit ``on_committed``
runs (the rules engine); only then may the batch's messages be acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from gateway.batching import PendingBatch
from gateway.dead_letters import STORAGE_FAILED, insert_dead_letters
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.presence import apply_presence
from gateway.sequence import SeqDelta, SequenceRecorder
from gateway.stats import Counters
from ingest.database import connect
from ingest.records import Batch
from ingest.writer import Writer, is_transient, isolate_failures

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


@dataclass(frozen=True, slots=True)
class _Written:
    """What one transaction stored, for the counters."""

    pending: PendingBatch
    samples: int
    events: int
    sequences: SeqDelta


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
        self.committed_at: float | None = None  # monotonic time of the last commit

    def flush(self, pending: PendingBatch) -> bool:
        """Commit ``pending``, retrying across database outages, then run ``on_committed``; ``False`` if
        stopped before it could commit (its messages stay with the broker).

        A failure the batch's own content causes is not retried: ``_commit_isolating`` sets the messages at
        fault aside as dead letters and commits the rest.
        """
        backoff = 0.1
        while True:
            try:
                pending.validate_held(self._directory)
                if self._storage is None or self._storage.conn.closed:
                    self._storage = Storage.connect(self.database_url)
                try:
                    self._count([self._write(self._storage, pending)])
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._commit_isolating(self._storage, pending, exc)
                self.committed_at = time.monotonic()
                break
            except Exception as exc:
                if not _transient(exc):
                    raise
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

    def _write(self, storage: Storage, pending: PendingBatch) -> _Written:
        """Commit ``pending`` in one transaction."""
        conn = storage.conn
        with conn.transaction():
            # A new Batch each attempt: a retried flush must not carry the presence events twice.
            batch = Batch(pending.batch.samples, pending.batch.events + apply_presence(conn, pending.presence))
            result = storage.writer.add(batch)
            insert_dead_letters(conn, pending.dead_letters)
            delta = storage.sequences.record(pending.sequences)
        pending.batch = batch
        return _Written(pending, result.samples, result.events, delta)

    def _commit_isolating(self, storage: Storage, pending: PendingBatch, cause: Exception) -> None:
        """Commit what can be of a batch that failed on its content: halves of its messages in transactions of
        their own until each failing message stands alone; those become ``storage_failed`` dead letters, with
        the batch's rejections, in a last transaction. Each message is validated again as its part is built."""
        log.warning("a flush of %d messages failed on their content (%s); isolating the messages at fault",
                    len(pending.messages), type(cause).__name__)
        parts, failed = isolate_failures(
            pending.messages,
            lambda messages: self._write(storage, PendingBatch.of_messages(list(messages), self._directory,
                                                                           pending.admission)),
            transient=_transient,
        )
        rest = PendingBatch(pending.admission, dead_letters=pending.dead_letters, rejected=Counter(pending.rejected),
                            suppressed=pending.suppressed, cleared=pending.cleared)
        for inbound, exc in failed:
            kept = len(rest.dead_letters)
            rest.reject(inbound, STORAGE_FAILED, f"{type(exc).__name__}: {exc}")
            if len(rest.dead_letters) > kept:  # logged as often as stored: at the device's dead-letter rate
                log.error("a message from %s could not be stored (%s); dead-lettered as %s",
                          inbound.topic.split("/")[3], type(exc).__name__, STORAGE_FAILED)
        written = [*parts, self._write(storage, rest)]
        self._count(written)
        pending.batch = Batch([s for w in written for s in w.pending.batch.samples],
                              [e for w in written for e in w.pending.batch.events])

    def _count(self, written: list[_Written]) -> None:
        # Counted per batch, once committed, rather than under a lock for every message.
        counts: Counter[str] = Counter(batches=1)
        reasons: Counter[str] = Counter()
        for w in written:
            counts["received"] += w.pending.accepted + w.pending.rejected.total()
            counts["accepted"] += w.pending.accepted
            counts["samples"] += w.samples
            counts["events"] += w.events
            counts["gaps"] += w.sequences.gaps
            counts["missing"] += w.sequences.missing
            counts["replays"] += w.sequences.replays
            counts["dead_letters_suppressed"] += w.pending.suppressed
            counts["cleared"] += w.pending.cleared
            reasons.update(w.pending.rejected)
        self._counters.add_all(counts, reasons)

    def _after_commit(self, pending: PendingBatch) -> None:
        if self.on_committed is None:
            return
        try:
            self.on_committed(pending.batch)
        except Exception as exc:
            # The data is committed; failing to ack would only cause a redelivery the DB ignores.
            self._counters.add("on_committed_errors")
            log.error("on_committed hook failed: %s", type(exc).__name__)


def _transient(exc: BaseException) -> bool:
    """Worth retrying as it is: the database's or the registry's trouble, not the batch's content."""
    return is_transient(exc) or isinstance(exc, DirectoryUnavailable)
