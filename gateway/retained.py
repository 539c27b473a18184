"""Retained copies on telemetry and event topics, deleted: only a device's ``state`` birth stays retained.

Mosquitto keeps the last retained message of every topic a client may write, and 2.0 cannot restrict retain by
topic or client (docs/ingest.md, "Broker security"). So a device could keep a retained reading or event on each
of its telemetry and event topics, replayed to every new subscriber. The gateway has already stored each such
message when it was published live; what remains is the broker's copy. The sweeper deletes it: every
``interval_s`` it connects with a clean session under its own login (the gateway's user name with ``-sweep``,
``gateway.logins``), subscribes to the telemetry and event topics of the gateway's sites, takes the retained
copies the broker sends straight after the subscription, and publishes an empty retained message to each topic,
which deletes it (MQTT 3.1.1 §3.3.1.3, MQTT 5 §3.3.1.3). The broker also forwards those empty messages to the
gateway's sessions, which acknowledge them and store nothing (``gateway.validation.Cleared``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.crash import OnCrash, guarded_thread
from gateway.protocol import TopicKind
from gateway.protocol.endpoint import MqttEndpoint

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0
# How long retained copies may take to arrive after the SUBACK (Mosquitto sends them at once, in one burst).
SETTLE_S = 0.5
SWEPT_KINDS = (TopicKind.TELEMETRY, TopicKind.EVENT)


def sweep_filters(sites: Sequence[str] = ()) -> list[str]:
    """The telemetry and event topics of ``sites`` (every site without)."""
    return [f"pw/v1/{site}/+/{kind}" for site in (sites or ["+"]) for kind in SWEPT_KINDS]


def sweep_once(endpoint: MqttEndpoint, client_id: str, *, sites: Sequence[str] = (), timeout_s: float = 10.0,
               settle_s: float = SETTLE_S, tls_ca_file: str | None = None) -> list[str]:
    """Delete the retained copies on the telemetry and event topics of ``sites``; return the topics cleared.

    Raises ``ConnectionError`` when the broker cannot be reached or refuses the login or the subscription.
    """
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv311, clean_session=True)
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        client.tls_set(ca_certs=tls_ca_file)
    connected, subscribed = threading.Event(), threading.Event()
    refused: list[str] = []
    retained: dict[str, None] = {}  # topics in arrival order

    def on_connect(client: mqtt.Client, userdata: object, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            refused.append(f"login refused: {reason_code}")
        connected.set()

    def on_subscribe(client: mqtt.Client, userdata: object, mid: int, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            refused.append(f"subscription refused: {reason_codes}")
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.retain and message.payload:
            retained[message.topic] = None

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(endpoint.host, endpoint.port, keepalive=30)
    except OSError as exc:
        raise ConnectionError(f"cannot reach the broker at {endpoint.url()}: {exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(timeout_s) or refused:
            raise ConnectionError(refused[0] if refused else f"no answer from {endpoint.url()} in {timeout_s:.0f} s")
        client.subscribe([(topic, 1) for topic in sweep_filters(sites)])
        if not subscribed.wait(timeout_s) or refused:
            raise ConnectionError(refused[0] if refused else f"no subscription acknowledgement in {timeout_s:.0f} s")
        time.sleep(settle_s)
        topics = list(retained)
        published = [client.publish(topic, b"", qos=1, retain=True) for topic in topics]
        deadline = time.monotonic() + timeout_s
        for info in published:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        return topics
    finally:
        client.disconnect()
        client.loop_stop()


class RetainedSweeper:
    """Runs ``sweep_once`` every ``interval_s`` on a thread of its own, while ``ready()`` (the gateway's sessions
    are subscribed: a fresh session is handed the retained copies on subscribing, and they may be the only copy
    of a reading sent while no gateway session existed); a failed sweep is retried next time."""

    def __init__(self, endpoint: MqttEndpoint, client_id: str, *, ready: Callable[[], bool],
                 sites: Sequence[str] = (), interval_s: float = SWEEP_INTERVAL_S, tls_ca_file: str | None = None,
                 on_crash: OnCrash) -> None:
        self._endpoint = endpoint
        self._client_id = client_id
        self._ready = ready
        self._sites = list(sites)
        self._interval = interval_s
        self._tls_ca_file = tls_ca_file
        self._stopping = threading.Event()
        self._failing = False
        self.cleared = 0
        self._thread = guarded_thread(self._run, name="gateway-retained-sweeper", on_crash=on_crash)

    def start(self) -> None:
        """Sweep at once, then every interval."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread after the sweep in progress."""
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._ready():
                self._stopping.wait(min(self._interval, 1.0))
                continue
            try:
                topics = sweep_once(self._endpoint, self._client_id, sites=self._sites,
                                    tls_ca_file=self._tls_ca_file)
            except ConnectionError as exc:
                if not self._failing:  # once per outage, not every sweep
                    log.warning("retained-copy sweep failed (%s); retrying every %.0f s", exc, self._interval)
                self._failing = True
            else:
                self._failing = False
                if topics:
                    self.cleared += len(topics)
                    log.info("deleted %d retained copies on telemetry/event topics: %s", len(topics),
                             ", ".join(topics[:10]) + (" …" if len(topics) > 10 else ""))
            self._stopping.wait(self._interval)
