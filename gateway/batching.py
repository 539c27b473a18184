"""Batch building: each validated message joins the batch being filled, which goes to the writer when it is
full, due (``flush_interval_s`` old) or holds an urgent record.

At most three batches exist: one committing, one ready (waiting for the writer) and one filling. Handing a
full batch over while another is ready blocks the network thread, and TCP flow control then pushes back on
the broker. The window of unacknowledged messages (``receive_maximum``) is counted here too: a message enters
it when it joins a batch and leaves it when its acknowledgement has been sent.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from gateway.dead_letters import DeadLetter, DeadLetterLimiter, make_dead_letter
from gateway.directory import DeviceDirectory
from gateway.presence import PresenceUpdate
from gateway.protocol import EventMessage, Rejection, StateMessage
from gateway.session import Ack, Inbound
from gateway.validation import Accepted, Cleared, Telemetry, ValidatorFailure, outcome
from ingest.records import Batch, DeviceEvent, Sample

log = logging.getLogger(__name__)

T = TypeVar("T")
Urgency = Callable[[Sample | DeviceEvent], bool]
LATE_EVENT_AFTER = timedelta(seconds=60)  # an event whose device time is older than this at receipt is late


@dataclass(frozen=True)
class Admission:
    """What admitting a message depends on besides the message: when an event counts as late, and whose dead
    letters are still stored (the others are counted only)."""

    dead_letters: DeadLetterLimiter
    late_after: timedelta = LATE_EVENT_AFTER


@dataclass(slots=True)
class PendingBatch:
    """One flush in the making: data, side tables, and the messages to acknowledge after commit."""

    admission: Admission
    batch: Batch = field(default_factory=Batch)
    messages: list[Inbound] = field(default_factory=list)  # the accepted ones, in arrival order
    dead_letters: list[DeadLetter] = field(default_factory=list)
    presence: list[PresenceUpdate] = field(default_factory=list)
    sequences: list[tuple[str, int]] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    unvalidated: deque[Inbound] = field(default_factory=deque)
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by reason
    rows: int = 0
    suppressed: int = 0  # rejected messages whose dead letter the device's allowance did not cover
    cleared: int = 0  # deletions of retained copies (gateway.retained): acknowledged, nothing stored
    since: float = 0.0
    urgent: set[str] = field(default_factory=set)  # devices with a record worth committing at once

    @classmethod
    def of_messages(cls, messages: list[Inbound], directory: DeviceDirectory, admission: Admission) -> PendingBatch:
        """The batch ``messages`` make, validated again: part of a batch that failed to commit, to try alone."""
        part = cls(admission)
        for inbound in messages:
            part.add(inbound, outcome(inbound.topic, inbound.payload, directory, inbound.received_at))
        return part

    def add(self, inbound: Inbound, verdict: Accepted | Cleared | Rejection) -> Sample | DeviceEvent | None:
        """Add a validated message's data (whose acknowledgement ``acks`` already holds); return the sample or
        event it added, if any."""
        if isinstance(verdict, Cleared):
            self.rows += 1
            self.cleared += 1
            return None
        if isinstance(verdict, Rejection):
            self.reject(inbound, str(verdict.reason), verdict.detail)
            if isinstance(verdict, ValidatorFailure):
                log.error("%s on a message of %s; dead-lettered", verdict.detail, _device_key(inbound.topic))
            return None
        self.messages.append(inbound)
        device, message = verdict.topic.device, verdict.message
        record: Sample | DeviceEvent | None = None
        if isinstance(message, Telemetry):
            record = Sample(device, message.ts, message.metrics)
            self.batch.samples.append(record)
            self.rows += len(message.metrics)
            self.sequences.append((device, message.seq))
        elif isinstance(message, EventMessage):
            received_at = inbound.received_at
            record = DeviceEvent(device, message.ts, message.code, message.seq, message.detail, received_at,
                                 received_at - message.ts > self.admission.late_after)
            self.batch.events.append(record)
            self.rows += 1
            self.sequences.append((device, message.seq))
        elif isinstance(message, StateMessage):
            self.presence.append(
                PresenceUpdate(
                    device, verdict.topic.site, message.status, message.ts or inbound.received_at,
                    message.type, message.model, message.firmware,
                )
            )
            self.rows += 1
        self.accepted += 1
        return record

    def reject(self, inbound: Inbound, reason: str, detail: str) -> None:
        """Count a rejected message, and keep its dead letter if its device's allowance covers it."""
        self.rows += 1
        self.rejected[reason] += 1
        if self.admission.dead_letters.allow(_device_key(inbound.topic)):
            self.dead_letters.append(_dead_letter(inbound, reason, detail))
        else:
            self.suppressed += 1

    def validate_held(self, directory: DeviceDirectory) -> None:
        """Validate the messages held while the registry was unreadable; ``DirectoryUnavailable`` if it still is."""
        while self.unvalidated:
            inbound = self.unvalidated[0]
            verdict = outcome(inbound.topic, inbound.payload, directory, inbound.received_at)
            self.unvalidated.popleft()
            self.add(inbound, verdict)

    def split_urgent(self) -> list[PendingBatch]:
        """This batch as the flushes to commit in turn: first the urgent devices' records, as a transaction
        small enough to commit in a few milliseconds, then the rest (with every acknowledgement, the dead
        letters and the held messages). Each device's records stay in arrival order."""
        if not self.urgent:
            return [self]
        devices, self.urgent = self.urgent, set()
        head = PendingBatch(self.admission)
        head.batch.samples, self.batch.samples = _apart(self.batch.samples, lambda s: s.device_id in devices)
        head.batch.events, self.batch.events = _apart(self.batch.events, lambda e: e.device_id in devices)
        head.presence, self.presence = _apart(self.presence, lambda p: p.device_id in devices)
        head.sequences, self.sequences = _apart(self.sequences, lambda entry: entry[0] in devices)
        head.messages, self.messages = _apart(self.messages, lambda m: _device_key(m.topic) in devices)
        head.accepted = len(head.messages)
        self.accepted -= head.accepted
        return [head, self]


def _dead_letter(inbound: Inbound, reason: str, detail: str) -> DeadLetter:
    """A rejected message as it is stored, with its site and device when the topic has them."""
    parts = inbound.topic.split("/")
    site, device = (parts[2], parts[3]) if len(parts) == 5 else (None, None)
    return make_dead_letter(received_at=inbound.received_at, topic=inbound.topic, reason=reason, detail=detail,
                            payload=inbound.payload, site_id=site, device_id=device)


def _device_key(topic: str) -> str:
    """The device a message's topic names, as far as it names one (under the broker's ACL, the sender)."""
    parts = topic.split("/", 4)
    return parts[3] if len(parts) > 3 else ""


def _apart(items: list[T], chosen: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """``items`` split into those ``chosen`` and the others, each in its original order."""
    picked: list[T] = []
    others: list[T] = []
    for item in items:
        (picked if chosen(item) else others).append(item)
    return picked, others


class Batcher:
    """The batch being filled and the full one waiting for the writer; see the module docstring.

    ``add`` runs on the network thread, ``next_batch`` on the writer thread. ``urgent`` marks the records that
    should not wait for their batch window (``rules.urgency``); a predicate that raises is switched off.
    ``on_urgent`` is called (on the network thread) when a batch takes its first urgent record.
    """

    def __init__(self, admission: Admission, *, flush_rows: int, flush_interval_s: float, receive_maximum: int,
                 urgent: Urgency | None = None, on_urgent: Callable[[], None] | None = None) -> None:
        self.admission = admission
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.receive_maximum = receive_maximum
        self.urgent = urgent
        self.on_urgent = on_urgent
        self.unacknowledged = 0  # guarded by the lock
        self.waiting_since: float | None = None  # monotonic time the window last became non-empty
        self._filling = PendingBatch(admission)
        self._lock = threading.Lock()
        # Full batches waiting for the writer: one, so at most three batches exist (writing, ready, filling).
        self._ready: queue.Queue[PendingBatch] = queue.Queue(maxsize=1)

    def add(self, inbound: Inbound, verdict: Accepted | Cleared | Rejection | None) -> PendingBatch | None:
        """Append a message to the batch being filled (``verdict`` ``None``: held unvalidated, the registry
        being unreadable); return that batch if it is now due for the writer, to be passed to ``hand_over``."""
        with self._lock:
            pending = self._filling
            if not pending.acks:
                pending.since = time.monotonic()
            pending.acks.append((inbound.mid, inbound.qos, inbound.generation))
            if verdict is None:
                pending.unvalidated.append(inbound)
                pending.rows += 1
            else:
                record = pending.add(inbound, verdict)
                if record is not None and self._is_urgent(record):
                    if not pending.urgent and self.on_urgent is not None:
                        self.on_urgent()
                    pending.urgent.add(record.device_id)
            if not self.unacknowledged:
                self.waiting_since = time.monotonic()
            self.unacknowledged += 1
            # An urgent batch goes at once if the writer is free for it; if a full batch is waiting, the writer
            # takes this one straight after that (next_batch), and handing it over now would only block.
            due = pending.rows >= self.flush_rows or (bool(pending.urgent) and self._ready.empty())
            if due:
                self._filling = PendingBatch(self.admission)
        return pending if due else None

    def hand_over(self, pending: PendingBatch, stopping: threading.Event) -> None:
        """Give a due batch to the writer, waiting while the one before is still waiting (not once stopping)."""
        while not stopping.is_set():
            try:
                self._ready.put(pending, timeout=0.2)
                return
            except queue.Full:
                continue

    def next_batch(self, stopping: threading.Event) -> PendingBatch | None:
        """For the writer: a full batch, or the one being filled once it is due or urgent; ``None`` once
        stopped with nothing left."""
        wait = 0.0 if self._filling.urgent or stopping.is_set() else self.flush_interval_s
        while True:
            try:
                ready = self._ready.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if ready.acks:
                    return ready
            stopped = stopping.is_set()
            with self._lock:
                pending = self._filling
                # Until the batch being filled is due: waking exactly then, not at a polling tick, is what
                # keeps a message's wait for its flush at flush_interval_s.
                age = time.monotonic() - pending.since if pending.acks else 0.0
                wait = self.flush_interval_s - age
                due = pending.acks and (stopped or wait <= 0 or pending.urgent)
                if due:
                    self._filling = PendingBatch(self.admission)
            if due:
                return pending
            if stopped and self._ready.empty():
                return None

    def wake_writer(self) -> None:
        """Wake a writer waiting in ``next_batch`` (when stopping: no flush to wait for)."""
        with contextlib.suppress(queue.Full):
            self._ready.put_nowait(PendingBatch(self.admission))

    def window_full(self) -> bool:
        """Whether ``receive_maximum`` messages are unacknowledged; with MQTT 3.1.1 nothing else stops the
        broker from sending."""
        return self.unacknowledged >= self.receive_maximum

    def release(self, count: int) -> None:
        """``count`` messages have left the window (acknowledged, or left to a redelivery)."""
        with self._lock:
            self.unacknowledged -= count

    def _is_urgent(self, record: Sample | DeviceEvent) -> bool:
        if self.urgent is None:
            return False
        try:
            return self.urgent(record)
        except Exception:
            # Urgency only speeds commits up: without it every record still goes with its batch.
            log.exception("the urgency predicate failed; records wait for their batch from now on")
            self.urgent = None
            return False
