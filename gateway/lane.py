"""A lane: one subscription of the gateway with everything behind it, so that no backlog of one kind of
message delays another.

Each lane has its own MQTT session (its own persistent queue at the broker), its own batches and its own writer
thread and database connection. The gateway runs two: ``safety`` for events and presence (an entrapment, a
fire alarm, a device going offline) and ``telemetry`` for the bulk. Under a telemetry backlog the broker queues
telemetry behind telemetry only; an event arrives on a session whose queue is nearly always empty, is
validated on its own network thread and committed by its own writer, while a telemetry batch may be committing
beside it. Within the process the telemetry lane's threads step aside while an urgent record of the safety lane
is being committed and evaluated (``gateway.precedence``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from gateway.batching import Admission, Batcher, PendingBatch, Urgency
from gateway.crash import OnCrash, guarded_thread
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.flushing import Flusher
from gateway.health import SessionStatus
from gateway.precedence import Precedence
from gateway.protocol import Rejection, TopicKind
from gateway.protocol.endpoint import MqttEndpoint
from gateway.session import Inbound, Session
from gateway.stats import Counters
from gateway.validation import Accepted, Cleared, outcome
from ingest.records import Batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaneSpec:
    """Which messages a lane takes, the MQTT login and client id its session uses, and whether it steps aside
    for urgent work (``yields``, the bulk lane) or announces its own (the safety lane)."""

    name: str
    kinds: tuple[TopicKind, ...]
    endpoint: MqttEndpoint
    client_id: str
    yields: bool = False


def lane_topics(kinds: Sequence[TopicKind], *, sites: Sequence[str] = (), shared_group: str | None = None) -> list[str]:
    """The subscription filters for ``kinds``: every site's, or only ``sites``', optionally shared by a group."""
    filters = [f"pw/v1/{site}/+/{kind}" for site in (sites or ["+"]) for kind in kinds]
    return [f"$share/{shared_group}/{f}" if shared_group else f for f in filters]


class Lane:
    """A session, the batches it fills and the writer thread that commits them; see the module docstring."""

    def __init__(
        self,
        spec: LaneSpec,
        *,
        database_url: str,
        topics: Sequence[str],
        legacy_topics: Sequence[str],
        admission: Admission,
        counters: Counters,
        stopping: threading.Event,
        on_committed: Callable[[Batch], None] | None,
        urgent: Urgency | None,
        precedence: Precedence,
        on_crash: OnCrash,
        flush_rows: int,
        flush_interval_s: float,
        receive_maximum: int,
        stall_after: timedelta,
        protocol: str,
        session_expiry_s: int,
        keepalive_s: int,
        tls_ca_file: str | None,
    ) -> None:
        self.spec = spec
        self._stopping = stopping
        self._counters = counters
        self._stall_after = stall_after
        self._directory = DeviceDirectory(database_url)  # the network thread's own
        self._precedence = precedence
        self._batcher = Batcher(admission, flush_rows=flush_rows, flush_interval_s=flush_interval_s,
                                receive_maximum=receive_maximum, urgent=urgent,
                                on_urgent=None if spec.yields else precedence.begin)
        self._flusher = Flusher(database_url, counters=counters, stopping=stopping, on_committed=on_committed)
        self.session = Session(
            endpoint=spec.endpoint, client_id=spec.client_id, topics=topics, legacy_topics=legacy_topics,
            deliver=self._receive, paused=self._batcher.window_full, protocol=protocol,
            session_expiry_s=session_expiry_s, receive_maximum=receive_maximum, keepalive_s=keepalive_s,
            tls_ca_file=tls_ca_file, on_crash=on_crash,
        )
        self._writer = guarded_thread(self._write_loop, name=f"gateway-writer-{spec.name}", on_crash=on_crash)

    @property
    def unacknowledged(self) -> int:
        """Messages received and not yet acknowledged."""
        return self._batcher.unacknowledged

    def start(self) -> None:
        """Start the writer, then connect."""
        self._writer.start()
        self.session.start()

    def finish(self, timeout: float) -> None:
        """Once the gateway's ``stopping`` is set: commit and acknowledge what was received, then disconnect."""
        self._batcher.wake_writer()
        if self._writer.is_alive():
            self._writer.join(timeout)
        self.session.stop()
        self._directory.close()

    def status(self) -> SessionStatus:
        """What the lane reports for readiness (``gateway.health``)."""
        waiting = self._batcher.unacknowledged
        stuck_for = None
        if waiting:
            now = time.monotonic()
            since = max(t for t in (self._batcher.waiting_since, self._flusher.committed_at) if t is not None)
            stuck_for = timedelta(seconds=now - since)
        return SessionStatus(self.spec.client_id, waiting, stuck_for, self._stall_after)

    # -- the network thread ----------------------------------------------------------------------------

    def _receive(self, inbound: Inbound) -> None:
        # Once stopping, messages are left unacknowledged: the session redelivers them to the next run.
        if self._stopping.is_set():
            return
        if self.spec.yields:
            self._precedence.wait()
        try:
            verdict: Accepted | Cleared | Rejection | None = outcome(inbound.topic, inbound.payload, self._directory,
                                                           inbound.received_at)
        except DirectoryUnavailable:
            verdict = None
        due = self._batcher.add(inbound, verdict)
        if due is not None:
            self._batcher.hand_over(due, self._stopping)

    # -- the writer thread -----------------------------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            while True:
                pending = self._batcher.next_batch(self._stopping)
                if pending is None:
                    return
                announced = bool(pending.urgent) and not self.spec.yields
                for part in pending.split_urgent():
                    if self.spec.yields:
                        self._precedence.wait()
                    try:
                        if not self._flusher.flush(part):
                            return  # stopped during an outage: the broker keeps the messages
                    finally:
                        if announced:  # the first part holds the urgent records: committed and evaluated
                            announced = False
                            self._precedence.end()
                    self._acknowledge(part)
        finally:
            self._flusher.close()

    def _acknowledge(self, pending: PendingBatch) -> None:
        if not pending.acks:
            return
        held = len(pending.acks)

        def done(acked: int) -> None:
            # Messages of an older connection are redelivered, not acknowledged, but they leave the window too.
            self._batcher.release(held)
            self._counters.add("acked", acked)

        self.session.acknowledge(pending.acks, done)
