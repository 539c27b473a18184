"""Urgent work first within one process: the bulk lane's threads step aside while an urgent record is on its way.

The two lanes (``gateway.lane``) keep an entrapment out of the telemetry queue at the broker and out of the
telemetry batch at the database, but within one process every thread shares one interpreter lock. Under a
telemetry overload the telemetry lane's network thread, its writer and the rules engine evaluating its batch
are always runnable; each time the safety lane's thread waits for the database and wants the lock back it
queues behind them for a switch interval (5 ms), and an event's path has a dozen such waits. Measured on this
machine at 1.5 times the sustainable rate, that put the P0 median at 43-73 ms (docs/ingest.md).

So the safety lane announces an urgent record when its batch takes one (``begin``) and withdraws the notice
once that record is committed and evaluated (``end``); meanwhile the telemetry lane's threads, at points
where pausing is safe (before each message they validate, before each batch they commit, between chunks of
rules evaluation), ``wait``. The wait is bounded: a notice counts for ``longest_s`` after the latest
``begin`` at most, so a lost ``end`` costs one pause, never a stalled telemetry lane.
"""

from __future__ import annotations

import threading
import time

# Twice the median an entrapment takes under overload: long enough to cover most, short enough that the telemetry
# backlog a pause builds does not hold up the next event (250 ms gave p99 447-732 ms, 100 ms 315-520: docs/ingest.md).
LONGEST_S = 0.1


class Precedence:
    """The notice the safety lane gives and the telemetry lane heeds; see the module docstring."""

    def __init__(self, longest_s: float = LONGEST_S) -> None:
        self.longest_s = longest_s
        self._lock = threading.Lock()
        self._clear = threading.Event()
        self._clear.set()
        self._in_flight = 0
        self._until = 0.0

    @property
    def requested(self) -> bool:
        """Whether urgent work is in flight now (cheap: bulk threads ask often)."""
        return not self._clear.is_set() and time.monotonic() < self._until

    def begin(self) -> None:
        """An urgent record has entered a batch."""
        with self._lock:
            self._in_flight += 1
            self._until = time.monotonic() + self.longest_s
            self._clear.clear()

    def end(self) -> None:
        """An urgent batch has been committed and evaluated (or given up)."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            if not self._in_flight:
                self._clear.set()

    def wait(self) -> None:
        """From a bulk thread: return once no urgent work is in flight, or once the notice has expired."""
        if self._clear.is_set():
            return
        self._clear.wait(max(self._until - time.monotonic(), 0.0))
