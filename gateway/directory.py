"""The gateway's cached view of the device registry: which devices exist, at which site, of which type."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from ingest.database import connect
from ingest.registry import list_placements


class DirectoryUnavailable(Exception):
    """The registry could not be read; the caller retries rather than rejecting a device it cannot check."""


@dataclass(frozen=True, slots=True)
class KnownDevice:
    site_id: str
    type: str


class DeviceDirectory:
    """Device id -> site and type from ``ingest.registry``, checked every ``refresh_s`` and on a miss (at most
    once per ``miss_refresh_s``).

    A check reads every device's site and type (``ingest.registry.list_placements``, ~20 ms for 10,000
    devices), so a device added, removed or moved is seen within ``refresh_s``. The rate limit keeps a stream
    of messages from unknown devices from turning into a stream of queries. While the registry cannot be read,
    known devices are served from the last copy, and a device the copy does not list raises
    ``DirectoryUnavailable`` (it may have been registered since); reads are retried at most once per
    ``miss_refresh_s``, so an outage costs no connection attempt per message.
    Not thread-safe: one thread owns it.
    """

    def __init__(
        self,
        database_url: str,
        *,
        refresh_s: float = 30.0,
        miss_refresh_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = database_url
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._clock = clock
        self._devices: dict[str, KnownDevice] = {}
        self._checked_at: float | None = None
        self._failed_at: float | None = None
        self._conn: psycopg.Connection | None = None

    def lookup(self, device_id: str) -> KnownDevice | None:
        """The device, or ``None`` if the registry does not list it; ``DirectoryUnavailable`` if unreadable."""
        now = self._clock()
        if self._checked_at is None or now - self._checked_at >= self._refresh_s:
            self._try_refresh(now)
        found = self._devices.get(device_id)
        if found is None:
            if self._checked_at is not None and now - self._checked_at >= self._miss_refresh_s:
                self._try_refresh(now)
                found = self._devices.get(device_id)
            if found is None and self._failed_at is not None:
                raise DirectoryUnavailable(f"device registry unreadable; {device_id!r} not in the last copy")
        return found

    def close(self) -> None:
        """Close the registry connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _try_refresh(self, now: float) -> None:
        """Refresh unless a read failed less than ``miss_refresh_s`` ago; remember a failure instead of raising."""
        if self._failed_at is not None and now - self._failed_at < self._miss_refresh_s:
            return
        try:
            self._refresh(now)
        except DirectoryUnavailable:
            self._failed_at = now
        else:
            self._failed_at = None

    def _refresh(self, now: float) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self._url, autocommit=True)
            placements = list_placements(self._conn)
        except psycopg.Error as exc:
            self.close()
            raise DirectoryUnavailable(f"device registry unreadable: {type(exc).__name__}") from exc
        self._devices = {p.id: KnownDevice(p.site_id, p.type) for p in placements}
        self._checked_at = now
