"""The gateway: MQTT in, validated batches committed to PostgreSQL, then acknowledged.

``Gateway`` composes the pieces, each in its own module:

``gateway.session``
    the MQTT session and the network thread that runs it (``gateway.network_loop``); it delivers each message
    and sends the acknowledgements handed to it.
``gateway.validation``
    runs on the network thread as each message arrives: accepted, or rejected with a reason.
``gateway.batching``
    appends the outcome to the batch being filled and decides when a batch is due for the writer: full
    (``flush_rows`` rows), ``flush_interval_s`` old, or at once when it holds an urgent record (``urgent``: one
    that may raise an alarm, see ``rules.urgency``). It also keeps the window of unacknowledged messages
    (``receive_maximum``) that pauses reading.
``gateway.flushing``
    on the writer thread: commits each batch in one transaction (a batch with urgent records in two: the
    urgent devices' records first), retrying across database outages, then calls ``on_committed``.

After the commit and ``on_committed``, the batch's acknowledgements go back to the session. Validating on the
network thread hands messages between threads once per batch instead of once per message, which is most of
what a thread hop costs under the GIL. A message whose device cannot be looked up (registry unreadable) is held
in the batch unvalidated and checked by the writer, whose retry loop waits for the database anyway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

from gateway.batching import LATE_EVENT_AFTER, Batcher, PendingBatch, Urgency
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.flushing import Flusher
from gateway.protocol import Rejection
from gateway.protocol.endpoint import MqttEndpoint
from gateway.session import Inbound, Session
from gateway.stats import Counters, GatewayStats
from gateway.validation import Accepted, outcome
from ingest.records import Batch

log = logging.getLogger(__name__)

SUBSCRIPTION = "pw/v1/+/+/+"  # every site; a worker given sites subscribes to pw/v1/<site>/+/+ for each
FLUSH_INTERVAL_S = 0.2  # the longest a record waits for its batch, unless it is urgent

__all__ = ["FLUSH_INTERVAL_S", "SUBSCRIPTION", "Gateway", "GatewayStats"]


class Gateway:
    """Subscribes to every device topic and stores what passes validation; see the module docstring."""

    def __init__(
        self,
        *,
        endpoint: MqttEndpoint,
        database_url: str,
        protocol: str = "3.1.1",
        client_id: str = "propwatch-gateway",
        shared_group: str | None = None,
        sites: Sequence[str] = (),
        session_expiry_s: int = 3600,
        on_committed: Callable[[Batch], None] | None = None,
        urgent: Urgency | None = None,
        flush_rows: int = 10_000,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        receive_maximum: int = 4096,
        keepalive_s: int = 30,
        tls_ca_file: str | None = None,
        late_event_after_s: float = LATE_EVENT_AFTER.total_seconds(),
    ) -> None:
        self.endpoint = endpoint
        self.database_url = database_url
        self.client_id = client_id
        filters = [f"pw/v1/{site}/+/+" for site in sites] or [SUBSCRIPTION]
        self.topics = [f"$share/{shared_group}/{f}" if shared_group else f for f in filters]
        self._stopping = threading.Event()
        self._counters = Counters()
        self._directory = DeviceDirectory(database_url)  # the network thread's own
        self._batcher = Batcher(flush_rows=flush_rows, flush_interval_s=flush_interval_s,
                                receive_maximum=receive_maximum, urgent=urgent,
                                late_after=timedelta(seconds=late_event_after_s))
        self._flusher = Flusher(database_url, counters=self._counters, stopping=self._stopping,
                                on_committed=on_committed)
        self._session = Session(
            endpoint=endpoint, client_id=client_id, topics=self.topics, deliver=self._receive,
            paused=self._batcher.window_full, protocol=protocol, session_expiry_s=session_expiry_s,
            receive_maximum=receive_maximum, keepalive_s=keepalive_s, tls_ca_file=tls_ca_file,
        )
        self._writer_thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and start the writer; returns at once (the connection completes behind)."""
        self._writer_thread = threading.Thread(target=self._write_loop, name="gateway-writer", daemon=True)
        self._writer_thread.start()
        self._session.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit and acknowledge what has been received, then disconnect.

        Messages that arrive while stopping stay unacknowledged: the persistent session redelivers them.
        """
        self._stopping.set()
        self._batcher.wake_writer()
        if self._writer_thread is not None:
            self._writer_thread.join(timeout)
        self._session.stop()
        self._directory.close()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until connected and subscribed (SUBACK, or a resumed session); ``TimeoutError`` otherwise."""
        self._session.wait_connected(timeout)

    def stats(self) -> GatewayStats:
        """A snapshot of the counters."""
        return self._counters.snapshot(connected=self._session.connected,
                                       unacknowledged=self._batcher.unacknowledged)

    # -- the network thread ----------------------------------------------------------------------------

    def _receive(self, inbound: Inbound) -> None:
        # Once stopping, messages are left unacknowledged: the session redelivers them to the next run.
        if self._stopping.is_set():
            return
        try:
            verdict: Accepted | Rejection | None = outcome(inbound.topic, inbound.payload, self._directory,
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
                for part in pending.split_urgent():
                    if not self._flusher.flush(part):
                        return  # stopped during an outage: the broker keeps the messages
                    self._acknowledge(part)
        except Exception:
            log.exception("gateway writer failed")
            raise
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

        self._session.acknowledge(pending.acks, done)
