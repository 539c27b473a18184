"""Live events: one thread LISTENs on PostgreSQL channels and fans notifications out to SSE subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dispatch.workorders import get_work_order
from ingest.database import connect
from rules.alarms import get_alarm

log = logging.getLogger(__name__)

CHANNELS: tuple[str, ...] = ("pw_alarms", "pw_work_orders")
EVENT_NAMES = {"pw_alarms": "alarm", "pw_work_orders": "work_order"}


@dataclass(frozen=True)
class LiveEvent:
    """One notification: SSE event name and the decoded payload (a dict; ``raw`` when not JSON)."""

    name: str
    data: dict[str, Any]

    @property
    def site_id(self) -> str | None:
        value = self.data.get("site_id")
        return str(value) if value is not None else None


@dataclass
class Broadcaster:
    """Subscribers are bounded asyncio queues; a slow subscriber loses events rather than growing memory."""

    loop: asyncio.AbstractEventLoop
    queue_size: int = 256
    _subscribers: set[asyncio.Queue[LiveEvent]] = field(default_factory=set)

    def subscribe(self) -> asyncio.Queue[LiveEvent]:
        """A new queue that receives every event from now on."""
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveEvent]) -> None:
        """Stop delivering to ``queue``."""
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: LiveEvent) -> None:
        """Deliver to every subscriber (call on the loop thread)."""
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def publish_threadsafe(self, event: LiveEvent) -> None:
        """Deliver from another thread."""
        self.loop.call_soon_threadsafe(self.publish, event)


def decode(channel: str, payload: str) -> LiveEvent:
    """Turn a NOTIFY into a LiveEvent; non-JSON payloads are kept as ``{"raw": payload}``."""
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        data = {"raw": payload}
    if not isinstance(data, dict):
        data = {"value": data}
    return LiveEvent(EVENT_NAMES.get(channel, channel), data)


def enrich(conn: psycopg.Connection, event: LiveEvent) -> LiveEvent:
    """Add ``site_id`` (and for work orders ``unit_id``/``assignee_id``) so streams can be filtered by scope."""
    data = dict(event.data)
    try:
        if event.name == "alarm" and "site_id" not in data and data.get("alarm_id") is not None:
            alarm = get_alarm(conn, int(data["alarm_id"]))
            if alarm is not None:
                data.update(site_id=alarm.site_id, severity=alarm.severity, device_id=alarm.device_id)
        elif event.name == "work_order" and "site_id" not in data and data.get("id") is not None:
            order = get_work_order(conn, int(data["id"]))
            if order is not None:
                data.update(site_id=order.site_id, unit_id=order.unit_id, assignee_id=order.assignee_id)
    except (ValueError, TypeError):  # an id that is not a number: pass the event on as it came
        return event
    return LiveEvent(event.name, data)


class Listener:
    """A daemon thread holding one LISTEN connection; reconnects with back-off when the database goes away."""

    def __init__(self, database_url: str, broadcaster: Broadcaster, channels: tuple[str, ...] = CHANNELS) -> None:
        self._url = database_url
        self._broadcaster = broadcaster
        self._channels = channels
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pw-sse-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                with connect(self._url, autocommit=True) as conn:
                    for channel in self._channels:
                        conn.execute(f'LISTEN "{channel}"')
                    self.connected.set()
                    delay = 0.5
                    while not self._stop.is_set():
                        notes = list(conn.notifies(timeout=0.5, stop_after=100))
                        for note in notes:
                            event = enrich(conn, decode(note.channel, note.payload))
                            self._broadcaster.publish_threadsafe(event)
            except psycopg.Error as exc:
                self.connected.clear()
                log.warning("event listener lost the database (%s); retrying in %.1fs", type(exc).__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            except RuntimeError:  # the event loop closed during shutdown
                return
