"""The gateway: MQTT in, validated batches committed to PostgreSQL, then acknowledged.

``Gateway`` composes two lanes (``gateway.lane``) and a housekeeping thread. Each lane is:

``gateway.session``
    an MQTT session and the network thread that runs it (``gateway.network_loop``); it delivers each message
    and sends the acknowledgements handed to it.
``gateway.validation``
    run on the network thread as each message arrives: accepted, or rejected with a reason.
``gateway.batching``
    appends the outcome to the batch being filled and decides when a batch is due for the writer: full
    (``flush_rows`` rows), ``flush_interval_s`` old, or at once when it holds an urgent record (``urgent``: one
    that may raise an alarm, see ``rules.urgency``). It also keeps the window of unacknowledged messages
    (``receive_maximum``) that pauses reading.
``gateway.flushing``
    on the lane's writer thread: commits each batch in one transaction (a batch with urgent records in two: the
    urgent devices' records first), retrying across database outages and isolating messages the database
    refuses, then calls ``on_committed``.

After the commit and ``on_committed``, the batch's acknowledgements go back to the session. The ``safety``
lane takes events and presence, the ``telemetry`` lane the rest, each on its own session, so no telemetry
backlog delays an entrapment. The housekeeping thread (``gateway.housekeeping``) reports each session's
status for readiness checks (``gateway.health``) and prunes dead letters. A thread that dies calls
``on_crash``, by default ending the process (``gateway.crash``).

Validating on the network thread hands messages between threads once per batch instead of once per message,
which is most of what a thread hop costs under the GIL. A message whose device cannot be looked up (registry
unreadable) is held in the batch unvalidated and checked by the writer, whose retry loop waits for the
database anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from gateway.batching import LATE_EVENT_AFTER, Admission, Urgency
from gateway.crash import OnCrash, exit_process
from gateway.dead_letters import DeadLetterLimiter, DeadLetterPolicy
from gateway.housekeeping import Housekeeper
from gateway.lane import Lane, LaneSpec, lane_topics
from gateway.logins import SAFETY_SUFFIX, SWEEP_SUFFIX, safety_endpoint, sweep_endpoint
from gateway.precedence import Precedence
from gateway.protocol import TopicKind
from gateway.protocol.endpoint import MqttEndpoint
from gateway.retained import SWEEP_INTERVAL_S, RetainedSweeper
from gateway.stats import Counters, GatewayStats
from ingest.records import Batch

FLUSH_INTERVAL_S = 0.2  # the longest a record waits for its batch, unless it is urgent
STALL_AFTER_S = 30.0
SAFETY_KINDS = (TopicKind.EVENT, TopicKind.STATE)
TELEMETRY_KINDS = (TopicKind.TELEMETRY,)
DEAD_LETTERS = DeadLetterPolicy()  # frozen: the defaults, shared safely
LEGACY_FILTER = "pw/v1/+/+/+"  # what one session took before the lanes; dropped from resumed sessions

__all__ = ["FLUSH_INTERVAL_S", "Gateway", "GatewayStats"]


class Gateway:
    """Subscribes to every device topic and stores what passes validation; see the module docstring.

    The telemetry lane's session is ``client_id`` on ``endpoint``; the safety lane's is ``client_id-safety`` on
    ``safety`` (by default ``safety_endpoint(endpoint)``). Dead letters follow ``dead_letters``; an event whose
    device time is more than ``late_event_after_s`` before its receipt is marked late; a session whose messages
    wait ``stall_after_s`` without a commit reports itself stalled. Every ``sweep_interval_s`` (``None``: never) the
    retained copies on its sites' telemetry and event topics are deleted, as ``client_id-sweep`` on ``sweep`` (by
    default ``sweep_endpoint(endpoint)``; ``gateway.retained``). While an urgent record of the safety lane is
    committed and evaluated, the telemetry lane steps aside (``precedence``, ``gateway.precedence``).
    """

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
        safety: MqttEndpoint | None = None,
        dead_letters: DeadLetterPolicy = DEAD_LETTERS,
        late_event_after_s: float = LATE_EVENT_AFTER.total_seconds(),
        stall_after_s: float = STALL_AFTER_S,
        on_crash: OnCrash = exit_process,
        sweep: MqttEndpoint | None = None,
        sweep_interval_s: float | None = SWEEP_INTERVAL_S,
        precedence: Precedence | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.database_url = database_url
        self.client_id = client_id
        self.urgent = urgent
        self._stopping = threading.Event()
        self._counters = Counters()
        admission = Admission(DeadLetterLimiter(burst=dead_letters.burst, per_minute=dead_letters.per_minute),
                              timedelta(seconds=late_event_after_s))
        specs = [
            LaneSpec("safety", SAFETY_KINDS, safety or safety_endpoint(endpoint), client_id + SAFETY_SUFFIX),
            LaneSpec("telemetry", TELEMETRY_KINDS, endpoint, client_id, yields=True),
        ]
        # Shared with the rules engine by a pipeline, whose telemetry evaluation steps aside too.
        self.precedence = precedence or Precedence()
        self.lanes = [
            Lane(
                spec, database_url=database_url,
                topics=lane_topics(spec.kinds, sites=sites, shared_group=shared_group),
                legacy_topics=_legacy_filters(sites, shared_group) if spec.name == "telemetry" else [],
                admission=admission, counters=self._counters, stopping=self._stopping, on_committed=on_committed,
                urgent=urgent, precedence=self.precedence, on_crash=on_crash, flush_rows=flush_rows,
                flush_interval_s=flush_interval_s,
                receive_maximum=receive_maximum, stall_after=timedelta(seconds=stall_after_s), protocol=protocol,
                session_expiry_s=session_expiry_s, keepalive_s=keepalive_s, tls_ca_file=tls_ca_file,
            )
            for spec in specs
        ]
        self._sweeper = None if sweep_interval_s is None else RetainedSweeper(
            sweep or sweep_endpoint(endpoint), client_id + SWEEP_SUFFIX, sites=sites, interval_s=sweep_interval_s,
            tls_ca_file=tls_ca_file, on_crash=on_crash,
            ready=lambda: all(lane.session.connected for lane in self.lanes))
        self._housekeeper = Housekeeper(database_url, statuses=lambda: [lane.status() for lane in self.lanes],
                                        dead_letters=dead_letters, on_crash=on_crash, stats=self.stats,
                                        client_id=client_id)

    @property
    def topics(self) -> list[str]:
        """Every subscription filter of the gateway's sessions."""
        return [topic for lane in self.lanes for topic in lane.session.topics]

    def start(self) -> None:
        """Connect and start the writers; returns at once (the connections complete behind)."""
        for lane in self.lanes:
            lane.start()
        self._housekeeper.start()
        if self._sweeper is not None:
            self._sweeper.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Commit and acknowledge what has been received, then disconnect.

        Messages that arrive while stopping stay unacknowledged: the persistent sessions redeliver them.
        """
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.stop()
        for lane in self.lanes:
            lane.finish(timeout)
        self._housekeeper.stop()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until every session is connected and subscribed; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        for lane in self.lanes:
            lane.session.wait_connected(max(deadline - time.monotonic(), 0.0))

    def stats(self) -> GatewayStats:
        """A snapshot of the counters, over both lanes."""
        return self._counters.snapshot(connected=all(lane.session.connected for lane in self.lanes),
                                       unacknowledged=sum(lane.unacknowledged for lane in self.lanes))


def _legacy_filters(sites: Sequence[str], shared_group: str | None) -> list[str]:
    filters = [f"pw/v1/{site}/+/+" for site in sites] or [LEGACY_FILTER]
    return [f"$share/{shared_group}/{f}" if shared_group else f for f in filters]
