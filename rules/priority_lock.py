"""A lock whose holder can lend it to urgent callers between the steps of a long job.

The rules engine evaluates one batch at a time. A telemetry batch can take hundreds of milliseconds under load;
an entrapment committed meanwhile must not wait for all of it. The telemetry job calls ``lend`` between chunks:
if an urgent caller waits, it runs now and the job carries on afterwards, so an urgent caller waits at most one
chunk. Ordinary callers (another batch, the ticker) never take the lock while it is lent, so the job finds the
state it left, changed only by the urgent calls.

A job may also pause while it lends (``lend(during=...)``): a process that knows an urgent record is on its way,
not yet at the lock (the gateway's safety lane committing it), lets the job wait for it without keeping the
interpreter busy (``GiveWay``, implemented by ``gateway.precedence``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class GiveWay(Protocol):
    """Urgent work on its way to the lock: whether there is some now, and a bounded wait for it to pass."""

    @property
    def requested(self) -> bool: ...

    def wait(self) -> None: ...


class PriorityLock:
    """Mutual exclusion where urgent callers go first and a holder may lend the lock to them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._lent = False
        self._urgent_waiting = 0

    @contextmanager
    def hold(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock for the block; urgent callers are served before ordinary ones."""
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
                try:
                    self._cond.wait_for(lambda: not self._held)
                finally:
                    self._urgent_waiting -= 1
            else:
                self._cond.wait_for(lambda: not (self._held or self._lent or self._urgent_waiting))
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()

    @property
    def urgent_waiting(self) -> bool:
        """Whether an urgent caller waits (read without the lock: a hint for the holder)."""
        return self._urgent_waiting > 0

    def lend(self, during: Callable[[], None] | None = None) -> bool:
        """From the holder: let every urgent caller waiting now run, and those arriving while ``during()``
        runs, then take the lock back.

        Returns whether it lent. Cheap when nobody waits and there is no ``during`` (one unlocked read), so a
        job may call it often.
        """
        if not self._urgent_waiting and during is None:
            return False
        with self._cond:
            self._held = False
            self._lent = True
            self._cond.notify_all()
        try:
            if during is not None:
                during()
        finally:
            with self._cond:
                self._cond.wait_for(lambda: not (self._held or self._urgent_waiting))
                self._lent = False
                self._held = True
        return True
