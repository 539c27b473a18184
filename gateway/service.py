"""The gateway: MQTT in, validated batches committed to PostgreSQL, then acknowledged.

Two threads:

``network`` (``gateway.network_loop``, which owns the paho client)
    validates each message as it arrives and appends it to the batch being filled. A full batch
    (``flush_rows`` rows) is handed to the writer; while the writer is still busy with the one before, the
    hand-over blocks the loop, and TCP flow control pushes back on the broker. The loop also stops reading
    while ``receive_maximum`` messages are unacknowledged (with MQTT 5 the broker already stops sending at
    that bound), so memory stays bounded whatever the broker holds. It sends the acknowledgements the writer
    hands it.
``writer``
    takes a full batch, or the batch being filled once it is ``flush_interval_s`` old, or at once when it
    holds an urgent record (``urgent``: one that may raise an alarm, see ``rules.urgency``), and commits it
    (readings, events, latest values, presence, dead letters, seq counters) in one transaction, calls
    ``on_committed``, then hands the batch's acknowledgements to the network thread. A batch with urgent
    records is two transactions: the urgent devices' records, then the rest. On a database error it
    keeps the batch, reconnects with backoff and retries, so unacknowledged messages stay with the broker.

Validating on the network thread hands messages between threads once per batch instead of once per message,
which is most of what a thread hop costs under the GIL. A message whose device cannot be looked up (registry
unreadable) is held in the batch unvalidated and checked by the writer, whose retry loop waits for the
database anyway.

Acknowledgements are tagged with the connection they arrived on: after a reconnect the broker redelivers
whatever was unacknowledged, and an old packet id must not acknowledge a different new message.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.dead_letters import DeadLetter, insert_dead_letters, make_dead_letter
from gateway.directory import DeviceDirectory, DirectoryUnavailable
from gateway.network_loop import NetworkLoop
from gateway.presence import PresenceUpdate, apply_presence
from gateway.protocol import EventMessage, Rejection, RejectionReason, StateMessage
from gateway.protocol.endpoint import MqttEndpoint
from gateway.sequence import SequenceRecorder
from gateway.validation import Accepted, Telemetry, validate
from ingest.database import connect
from ingest.records import Batch, DeviceEvent, Sample
from ingest.writer import Writer

log = logging.getLogger(__name__)

SUBSCRIPTION = "pw/v1/+/+/+"  # every site; a worker given sites subscribes to pw/v1/<site>/+/+ for each
MAX_BACKOFF_S = 5.0
T = TypeVar("T")
FLUSH_INTERVAL_S = 0.2  # the longest a record waits for its batch, unless it is urgent


@dataclass(frozen=True)
class GatewayStats:
    """Counters since ``start()``; the message counts grow as batches commit."""

    received: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    samples_written: int
    events_written: int
    batches_committed: int
    acked: int
    seq_gaps: int
    seq_missing: int
    seq_replays: int
    on_committed_errors: int
    database_errors: int
    connected: bool
    unacknowledged: int


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
    unvalidated: deque[_Inbound] = field(default_factory=deque)
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by reason
    rows: int = 0
    since: float = 0.0
    urgent: set[str] = field(default_factory=set)  # devices with a record worth committing at once

    def split_urgent(self) -> list[_Pending]:
        """This batch as the flushes to commit in turn: first the urgent devices' records, as a transaction
        small enough to commit in a few milliseconds, then the rest (with every acknowledgement, the dead
        letters and the held messages). Each device's records stay in arrival order."""
        if not self.urgent:
            return [self]
        devices, self.urgent = self.urgent, set()
        head = _Pending()
        head.batch.samples, self.batch.samples = _apart(self.batch.samples, lambda s: s.device_id in devices)
        head.batch.events, self.batch.events = _apart(self.batch.events, lambda e: e.device_id in devices)
        head.presence, self.presence = _apart(self.presence, lambda p: p.device_id in devices)
        head.sequences, self.sequences = _apart(self.sequences, lambda entry: entry[0] in devices)
        return [head, self]


def _apart(items: list[T], chosen: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """``items`` split into those ``chosen`` and the others, each in its original order."""
    picked: list[T] = []
    others: list[T] = []
    for item in items:
        (picked if chosen(item) else others).append(item)
    return picked, others


@dataclass(frozen=True, slots=True)
class _Storage:
    """What the writer thread writes with, on one database connection (made again after a reconnect)."""

    writer: Writer
    sequences: SequenceRecorder

    @classmethod
    def connect(cls, database_url: str) -> _Storage:
        conn = connect(database_url)
        try:
            return cls(Writer(conn), SequenceRecorder(conn))
        except BaseException:
            conn.close()
            raise

    @property
    def conn(self) -> psycopg.Connection:
        return self.writer.conn


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
        urgent: Callable[[Sample | DeviceEvent], bool] | None = None,
        flush_rows: int = 10_000,
        flush_interval_s: float = FLUSH_INTERVAL_S,
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
        filters = [f"pw/v1/{site}/+/+" for site in sites] or [SUBSCRIPTION]
        self.topics = [f"$share/{shared_group}/{f}" if shared_group else f for f in filters]
        self.session_expiry_s = session_expiry_s
        self.on_committed = on_committed
        self.urgent = urgent
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.tls_ca_file = tls_ca_file
        self._directory = DeviceDirectory(database_url)  # the network thread's own
        self._filling = _Pending()
        self._filling_lock = threading.Lock()
        # Full batches waiting for the writer: one, so at most three batches exist (writing, ready, filling).
        self._ready: queue.Queue[_Pending] = queue.Queue(maxsize=1)
        self._unacked = 0  # guarded by the filling lock
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._counts: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._writer_thread: threading.Thread | None = None
        self._client = self._make_client()
        self._network = NetworkLoop(self._client, name=f"gateway-network-{client_id}", paused=self._window_full)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and start the writer; returns at once (the connection completes behind)."""
        self._writer_thread = threading.Thread(target=self._write_loop, name="gateway-writer", daemon=True)
        self._writer_thread.start()
        self._client.connect_async(
            self.endpoint.host, self.endpoint.port, keepalive=self.keepalive_s, **self._connect_options()
        )
        self._network.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit and acknowledge what has been received, then disconnect.

        Messages that arrive while stopping stay unacknowledged: the persistent session redelivers them.
        """
        self._stopping.set()
        with contextlib.suppress(queue.Full):
            self._ready.put_nowait(_Pending())  # wakes the writer if it waits for a batch: no flush to wait for
        if self._writer_thread is not None:
            self._writer_thread.join(timeout)
        self._network.stop()
        self._directory.close()

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
            samples_written=c.get("samples", 0),
            events_written=c.get("events", 0),
            batches_committed=c.get("batches", 0),
            acked=c.get("acked", 0),
            seq_gaps=c.get("gaps", 0),
            seq_missing=c.get("missing", 0),
            seq_replays=c.get("replays", 0),
            on_committed_errors=c.get("on_committed_errors", 0),
            database_errors=c.get("database_errors", 0),
            connected=self._connected,
            unacknowledged=self._unacked,
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
        self._generation += 1  # only the network thread reads or changes it
        # A resumed session still has the subscription; subscribing again would resend retained messages.
        if flags.session_present:
            self._connected = True
        else:
            client.subscribe([(topic, 1) for topic in self.topics])  # _connected is set by the SUBACK
        log.info("gateway connected to %s (session present: %s)", self.endpoint.url(), flags.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("broker refused the subscription to %s: %s", self.topics, reason_codes)
            return
        self._connected = True

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags, reason_code, properties) -> None:
        self._generation += 1
        self._connected = False
        if not self._stopping.is_set():
            log.warning("gateway disconnected from broker: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        # Once stopping, messages are left unacknowledged: the session redelivers them to the next run.
        if self._stopping.is_set():
            return
        inbound = _Inbound(
            message.mid, message.qos, message.topic, message.payload, datetime.now(UTC), self._generation
        )
        try:
            accepted: Accepted | Rejection | None = _outcome(inbound, self._directory)
        except DirectoryUnavailable:
            accepted = None
        with self._filling_lock:
            pending = self._filling
            if not pending.acks:
                pending.since = time.monotonic()
            pending.acks.append((inbound.mid, inbound.qos, inbound.generation))
            if accepted is None:
                pending.unvalidated.append(inbound)
                pending.rows += 1
            else:
                record = self._admit(inbound, accepted, pending)
                if record is not None and self._is_urgent(record):
                    pending.urgent.add(record.device_id)
            self._unacked += 1
            # An urgent batch goes at once if the writer is free for it; if a full batch is waiting, the writer
            # takes this one straight after that (_next_batch), and handing it over now would only block.
            due = pending.rows >= self.flush_rows or (bool(pending.urgent) and self._ready.empty())
            if due:
                self._filling = _Pending()
        if due:
            self._hand_over(pending)

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

    def _window_full(self) -> bool:
        # With MQTT 3.1.1 nothing but this stops the broker from sending.
        return self._unacked >= self.receive_maximum

    def _hand_over(self, pending: _Pending) -> None:
        while not self._stopping.is_set():
            try:
                self._ready.put(pending, timeout=0.2)
                return
            except queue.Full:
                continue

    # -- validating ------------------------------------------------------------------------------------

    def _admit(self, inbound: _Inbound, outcome: Accepted | Rejection,
               pending: _Pending) -> Sample | DeviceEvent | None:
        """Add a validated message's data to ``pending``, whose ``acks`` already hold it (the caller holds
        whatever guards ``pending``); returns the sample or event it added, if any."""
        if isinstance(outcome, Rejection):
            self._reject(inbound, outcome, pending)
            return None
        device, message = outcome.topic.device, outcome.message
        record: Sample | DeviceEvent | None = None
        if isinstance(message, Telemetry):
            record = Sample(device, message.ts, message.metrics)
            pending.batch.samples.append(record)
            pending.rows += len(message.metrics)
            pending.sequences.append((device, message.seq))
        elif isinstance(message, EventMessage):
            record = DeviceEvent(device, message.ts, message.code, message.seq, message.detail)
            pending.batch.events.append(record)
            pending.rows += 1
            pending.sequences.append((device, message.seq))
        elif isinstance(message, StateMessage):
            pending.presence.append(
                PresenceUpdate(
                    device, outcome.topic.site, message.status, message.ts or inbound.received_at,
                    message.type, message.model, message.firmware,
                )
            )
            pending.rows += 1
        pending.accepted += 1
        return record

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
        pending.rejected[str(rejection.reason)] += 1

    def _validate_held(self, directory: DeviceDirectory, pending: _Pending) -> None:
        """Validate the messages held while the registry was unreadable; ``DirectoryUnavailable`` if it still is."""
        while pending.unvalidated:
            inbound = pending.unvalidated[0]
            outcome = _outcome(inbound, directory)
            pending.unvalidated.popleft()
            self._admit(inbound, outcome, pending)

    # -- writing ---------------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        storage: _Storage | None = None
        directory = DeviceDirectory(self.database_url)  # for held messages; not shared with the network thread
        try:
            while True:
                pending = self._next_batch()
                if pending is None:
                    return
                for part in pending.split_urgent():
                    storage = self._commit_with_retry(storage, directory, part)
                    if storage is None:
                        return  # stopped during an outage: the broker keeps the messages
                    self._after_commit(part)
        except Exception:
            log.exception("gateway writer failed")
            raise
        finally:
            directory.close()
            if storage is not None:
                storage.conn.close()

    def _next_batch(self) -> _Pending | None:
        """A full batch, or the one being filled once it is due or urgent; ``None`` once stopped with nothing
        left."""
        wait = 0.0 if self._filling.urgent or self._stopping.is_set() else self.flush_interval_s
        while True:
            try:
                ready = self._ready.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if ready.acks:
                    return ready
            stopping = self._stopping.is_set()
            with self._filling_lock:
                pending = self._filling
                # Until the batch being filled is due: waking exactly then, not at a polling tick, is what
                # keeps a message's wait for its flush at flush_interval_s.
                age = time.monotonic() - pending.since if pending.acks else 0.0
                wait = self.flush_interval_s - age
                due = pending.acks and (stopping or wait <= 0 or pending.urgent)
                if due:
                    self._filling = _Pending()
            if due:
                return pending
            if stopping and self._ready.empty():
                return None

    def _commit_with_retry(self, storage: _Storage | None, directory: DeviceDirectory,
                           pending: _Pending) -> _Storage | None:
        backoff = 0.1
        while True:
            try:
                self._validate_held(directory, pending)
                if storage is None or storage.conn.closed:
                    storage = _Storage.connect(self.database_url)
                self._commit(storage, pending)
                return storage
            except (psycopg.Error, DirectoryUnavailable) as exc:
                self._count("database_errors")
                log.warning("flush failed (%s); retrying in %.1f s", type(exc).__name__, backoff)
                if storage is not None:
                    storage.conn.close()
                storage = None
                # While stopping, give up on a database that is down instead of retrying forever.
                if self._stopping.wait(backoff):
                    return None
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _commit(self, storage: _Storage, pending: _Pending) -> None:
        conn = storage.conn
        with conn.transaction():
            # A new Batch each attempt: a retried flush must not carry the presence events twice.
            batch = Batch(pending.batch.samples, pending.batch.events + apply_presence(conn, pending.presence))
            result = storage.writer.add(batch)
            insert_dead_letters(conn, pending.dead_letters)
            delta = storage.sequences.record(pending.sequences)
        pending.batch = batch
        # Counted per batch, once committed, rather than under the lock for every message.
        with self._lock:
            self._counts["received"] += pending.accepted + pending.rejected.total()
            self._counts["accepted"] += pending.accepted
            self._reasons.update(pending.rejected)
            self._counts["samples"] += result.samples
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
        if pending.acks:
            self._network.call_soon(lambda: self._acknowledge(pending.acks))

    def _acknowledge(self, acks: list[tuple[int, int, int]]) -> None:
        """On the network thread: acknowledge a committed batch's messages and free their room in the window.

        Messages of an older connection are redelivered, not acknowledged, but they leave the window too.
        """
        generation = self._generation
        acked = 0
        for mid, qos, message_generation in acks:
            if qos > 0 and message_generation == generation:
                self._client.ack(mid, qos)
                acked += 1
        with self._filling_lock:
            self._unacked -= len(acks)
        self._count("acked", acked)

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n


def _outcome(inbound: _Inbound, directory: DeviceDirectory) -> Accepted | Rejection:
    """``validate``, with its rejection returned rather than raised; ``DirectoryUnavailable`` propagates."""
    try:
        return validate(inbound.topic, inbound.payload, directory, inbound.received_at)
    except Rejection as rejection:
        return rejection
    except DirectoryUnavailable:
        raise
    except Exception as exc:
        # A validator bug must not stop ingestion: the message is kept as a dead letter for analysis.
        log.error("unexpected %s while validating a message; dead-lettered", type(exc).__name__)
        return Rejection(RejectionReason.SCHEMA_VIOLATION, f"internal validation error: {type(exc).__name__}")
