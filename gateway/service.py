"""The gateway: MQTT in, validated batches committed to PostgreSQL, then acknowledged.

Three threads, joined by bounded queues:

``paho`` (network loop)
    puts each message in the inbox. MQTT 5 ``Receive Maximum`` caps how many unacknowledged messages the
    broker sends, so the inbox never holds more than that; with MQTT 3.1.1 the inbox bound blocks the loop
    and TCP flow control pushes back on the broker instead.
``assembler``
    validates messages and gathers them into a batch until ``flush_rows`` rows or ``flush_interval_s``.
``writer``
    commits a batch (readings, events, latest values, presence, dead letters, seq counters) in one
    transaction, calls ``on_committed``, then acknowledges the batch's messages. On a database error it
    keeps the batch, reconnects with backoff and retries, so unacknowledged messages stay with the broker.

Acknowledgements are tagged with the connection they arrived on: after a reconnect the broker redelivers
whatever was unacknowledged, and an old packet id must not acknowledge a different new message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.dead_letters import DeadLetter, insert_dead_letters, make_dead_letter
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.endpoint import MqttEndpoint
from gateway.presence import PresenceUpdate, apply_presence
from gateway.protocol import EventMessage, Rejection, RejectionReason, StateMessage, TelemetryMessage
from gateway.sequence import record_sequences
from gateway.validation import validate
from ingest.database import connect
from ingest.records import Batch, DeviceEvent, Reading
from ingest.writer import Writer

log = logging.getLogger(__name__)

SUBSCRIPTION = "pw/v1/+/+/+"
MAX_BACKOFF_S = 5.0


@dataclass(frozen=True)
class GatewayStats:
    """Counters since ``start()``."""

    received: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    readings_written: int
    events_written: int
    batches_committed: int
    acked: int
    seq_gaps: int
    seq_missing: int
    seq_replays: int
    on_committed_errors: int
    database_errors: int
    connected: bool
    inbox_depth: int


@dataclass(slots=True)
class _Inbound:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int


@dataclass(slots=True)
class _Pending:
    """One flush in the making: data, side tables, and the messages to acknowledge after commit."""

    batch: Batch = field(default_factory=Batch)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    presence: list[PresenceUpdate] = field(default_factory=list)
    sequences: list[tuple[str, int]] = field(default_factory=list)
    acks: list[tuple[int, int, int]] = field(default_factory=list)
    rows: int = 0


class Gateway:
    """Subscribes to every device topic and stores what passes validation; see the module docstring."""

    def __init__(
        self,
        *,
        endpoint: MqttEndpoint,
        database_url: str,
        protocol: str = "5",
        client_id: str = "propwatch-gateway",
        shared_group: str | None = None,
        session_expiry_s: int = 3600,
        on_committed: Callable[[Batch], None] | None = None,
        flush_rows: int = 10_000,
        flush_interval_s: float = 0.2,
        receive_maximum: int = 4096,
        keepalive_s: int = 30,
        tls_ca_file: str | None = None,
    ) -> None:
        if protocol not in ("5", "3.1.1"):
            raise ValueError(f"protocol must be '5' or '3.1.1', got {protocol!r}")
        self.endpoint = endpoint
        self.database_url = database_url
        self.protocol = protocol
        self.client_id = client_id
        self.topic = f"$share/{shared_group}/{SUBSCRIPTION}" if shared_group else SUBSCRIPTION
        self.session_expiry_s = session_expiry_s
        self.on_committed = on_committed
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.tls_ca_file = tls_ca_file
        self._inbox: queue.Queue[_Inbound] = queue.Queue(maxsize=receive_maximum)
        # Two batches: one being committed, one being assembled behind it.
        self._outbox: queue.Queue[_Pending | None] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._counts: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._threads: list[threading.Thread] = []
        self._client = self._make_client()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and start the background threads; returns at once (the connection completes behind)."""
        self._threads = [
            threading.Thread(target=self._assemble_loop, name="gateway-assembler", daemon=True),
            threading.Thread(target=self._write_loop, name="gateway-writer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._client.connect_async(
            self.endpoint.host, self.endpoint.port, keepalive=self.keepalive_s, **self._connect_options()
        )
        self._client.loop_start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit and acknowledge the batches already assembled, then disconnect.

        Messages still in the inbox stay unacknowledged: the persistent session redelivers them next time.
        """
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until connected and subscribed (SUBACK, or a resumed session); ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while not self._connected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway not connected to {self.endpoint.url()} after {timeout:.0f} s")
            time.sleep(0.02)

    def stats(self) -> GatewayStats:
        """A snapshot of the counters."""
        with self._lock:
            c = dict(self._counts)
            reasons = dict(self._reasons)
        return GatewayStats(
            received=c.get("received", 0),
            accepted=c.get("accepted", 0),
            rejected=sum(reasons.values()),
            rejected_by_reason=reasons,
            readings_written=c.get("readings", 0),
            events_written=c.get("events", 0),
            batches_committed=c.get("batches", 0),
            acked=c.get("acked", 0),
            seq_gaps=c.get("gaps", 0),
            seq_missing=c.get("missing", 0),
            seq_replays=c.get("replays", 0),
            on_committed_errors=c.get("on_committed_errors", 0),
            database_errors=c.get("database_errors", 0),
            connected=self._connected,
            inbox_depth=self._inbox.qsize(),
        )

    # -- MQTT ------------------------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        v5 = self.protocol == "5"
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        if self.endpoint.username:
            client.username_pw_set(self.endpoint.username, self.endpoint.password)
        if self.endpoint.tls:
            # The system trust store unless the broker's CA is given (a private PKI for the estate network).
            client.tls_set(ca_certs=self.tls_ca_file)
        client.reconnect_delay_set(min_delay=0.1, max_delay=2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_options(self) -> dict[str, object]:
        if self.protocol != "5":
            return {}
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        properties.ReceiveMaximum = self.receive_maximum
        return {"clean_start": False, "properties": properties}

    def _on_connect(self, client: mqtt.Client, userdata: object, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the gateway: %s", reason_code)
            return
        with self._lock:
            self._generation += 1
        # A resumed session still has the subscription; subscribing again would resend retained messages.
        if flags.session_present:
            self._connected = True
        else:
            client.subscribe(self.topic, qos=1)  # _connected is set by the SUBACK
        log.info("gateway connected to %s (session present: %s)", self.endpoint.url(), flags.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("broker refused the subscription to %s: %s", self.topic, reason_codes)
            return
        self._connected = True

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags, reason_code, properties) -> None:
        with self._lock:
            self._generation += 1
        self._connected = False
        if not self._stopping.is_set():
            log.warning("gateway disconnected from broker: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        inbound = _Inbound(
            message.mid, message.qos, message.topic, message.payload, datetime.now(UTC), self._generation
        )
        # Once stopping, messages are left unacknowledged: the session redelivers them to the next run.
        while not self._stopping.is_set():
            try:
                self._inbox.put(inbound, timeout=0.2)
                return
            except queue.Full:
                continue

    # -- assembling ------------------------------------------------------------------------------------

    def _assemble_loop(self) -> None:
        directory = DeviceDirectory(self.database_url)
        try:
            while not self._stopping.is_set():
                pending = self._assemble(directory)
                if pending.acks:
                    self._outbox.put(pending)
        except Exception:
            log.exception("gateway assembler failed")
            raise
        finally:
            directory.close()
            self._outbox.put(None)

    def _assemble(self, directory: DeviceDirectory) -> _Pending:
        pending = _Pending()
        deadline: float | None = None
        while pending.rows < self.flush_rows and not self._stopping.is_set():
            timeout = 0.1 if deadline is None else deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                inbound = self._inbox.get(timeout=timeout)
            except queue.Empty:
                continue
            if deadline is None:
                deadline = time.monotonic() + self.flush_interval_s
            self._admit(directory, inbound, pending)
        return pending

    def _admit(self, directory: DeviceDirectory, inbound: _Inbound, pending: _Pending) -> None:
        backoff = 0.1
        while True:
            try:
                accepted = validate(inbound.topic, inbound.payload, directory, inbound.received_at)
                break
            except Rejection as rejection:
                self._reject(inbound, rejection, pending)
                return
            except DirectoryUnavailable:
                self._count("database_errors")
                if self._stopping.wait(backoff):
                    return  # not acknowledged: redelivered to the next run
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except Exception as exc:
                # A validator bug must not stop ingestion: the message is kept as a dead letter for analysis.
                log.error("unexpected %s while validating a message; dead-lettered", type(exc).__name__)
                detail = f"internal validation error: {type(exc).__name__}"
                self._reject(inbound, Rejection(RejectionReason.SCHEMA_VIOLATION, detail), pending)
                return
        device, message = accepted.topic.device, accepted.message
        if isinstance(message, TelemetryMessage):
            ts = message.ts
            pending.batch.readings.extend(Reading(device, name, ts, v) for name, v in message.metrics.items())
            pending.rows += len(message.metrics)
            pending.sequences.append((device, message.seq))
        elif isinstance(message, EventMessage):
            pending.batch.events.append(DeviceEvent(device, message.ts, message.code, message.seq, message.detail))
            pending.rows += 1
            pending.sequences.append((device, message.seq))
        elif isinstance(message, StateMessage):
            pending.presence.append(
                PresenceUpdate(
                    device, accepted.topic.site, message.status, message.ts or inbound.received_at,
                    message.type, message.model, message.firmware,
                )
            )
            pending.rows += 1
        pending.acks.append((inbound.mid, inbound.qos, inbound.generation))
        self._count("received", "accepted")

    def _reject(self, inbound: _Inbound, rejection: Rejection, pending: _Pending) -> None:
        parts = inbound.topic.split("/")
        site, device = (parts[2], parts[3]) if len(parts) == 5 else (None, None)
        pending.dead_letters.append(
            make_dead_letter(
                received_at=inbound.received_at,
                topic=inbound.topic,
                reason=str(rejection.reason),
                detail=rejection.detail,
                payload=inbound.payload,
                site_id=site,
                device_id=device,
            )
        )
        pending.rows += 1
        pending.acks.append((inbound.mid, inbound.qos, inbound.generation))
        with self._lock:
            self._counts["received"] += 1
            self._reasons[str(rejection.reason)] += 1

    # -- writing ---------------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        writer: Writer | None = None
        abandoned = False
        try:
            while True:
                pending = self._outbox.get()
                if pending is None:
                    return
                if abandoned:
                    continue  # draining so the assembler can finish; these stay unacknowledged
                writer = self._commit_with_retry(writer, pending)
                if writer is None:
                    abandoned = True  # stopped during an outage: the broker keeps the messages
                    continue
                self._after_commit(pending)
        finally:
            if writer is not None:
                writer.conn.close()

    def _commit_with_retry(self, writer: Writer | None, pending: _Pending) -> Writer | None:
        backoff = 0.1
        while True:
            try:
                if writer is None or writer.conn.closed:
                    writer = Writer(connect(self.database_url))
                self._commit(writer, pending)
                return writer
            except psycopg.Error as exc:
                self._count("database_errors")
                log.warning("flush failed (%s); retrying in %.1f s", type(exc).__name__, backoff)
                if writer is not None:
                    writer.conn.close()
                writer = None
                # While stopping, give up on a database that is down instead of retrying forever.
                if self._stopping.wait(backoff):
                    return None
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _commit(self, writer: Writer, pending: _Pending) -> None:
        conn = writer.conn
        with conn.transaction():
            # A new Batch each attempt: a retried flush must not carry the presence events twice.
            batch = Batch(pending.batch.readings, pending.batch.events + apply_presence(conn, pending.presence))
            result = writer.add(batch)
            insert_dead_letters(conn, pending.dead_letters)
            delta = record_sequences(conn, pending.sequences)
        pending.batch = batch
        with self._lock:
            self._counts["readings"] += result.readings
            self._counts["events"] += result.events
            self._counts["batches"] += 1
            self._counts["gaps"] += delta.gaps
            self._counts["missing"] += delta.missing
            self._counts["replays"] += delta.replays

    def _after_commit(self, pending: _Pending) -> None:
        if self.on_committed is not None:
            try:
                self.on_committed(pending.batch)
            except Exception as exc:
                # The data is committed; failing to ack would only cause a redelivery the DB ignores.
                self._count("on_committed_errors")
                log.error("on_committed hook failed: %s", type(exc).__name__)
        acked = 0
        with self._lock:
            generation = self._generation
            for mid, qos, message_generation in pending.acks:
                if qos > 0 and message_generation == generation:
                    self._client.ack(mid, qos)
                    acked += 1
            self._counts["acked"] += acked

    def _count(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._counts[name] += 1
