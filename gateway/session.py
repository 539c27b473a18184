"""One MQTT session of the gateway: a paho client with a persistent session, its subscriptions, and the thread
that runs it (``gateway.network_loop``).

Messages come out as ``Inbound`` records tagged with the connection they arrived on; acknowledgements go back
in once per committed batch and are sent on the network thread, so paho is only ever called from that thread.
After a reconnect the broker redelivers whatever was unacknowledged and may reuse an old packet id for a new
message, so an acknowledgement is sent only on the connection its message arrived on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.crash import OnCrash
from gateway.network_loop import NetworkLoop
from gateway.protocol.endpoint import MqttEndpoint

log = logging.getLogger(__name__)

PROTOCOLS = ("5", "3.1.1")


@dataclass(slots=True)
class Inbound:
    """A message as it arrived: packet id, QoS, topic, raw payload, receipt time and connection generation."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int


Ack = tuple[int, int, int]  # (packet id, QoS, connection generation) of one message to acknowledge


class Session:
    """A persistent MQTT session subscribed to ``topics``, delivering each message to ``deliver``.

    ``legacy_topics`` are filters a resumed session may still hold from an older version; they are
    unsubscribed on every resumption (a no-op once they are gone).

    ``paused()`` stops reading (the owner's window of unacknowledged messages is full). With MQTT 5 the
    session also announces ``receive_maximum``, so the broker stops sending at that bound by itself.
    """

    def __init__(
        self,
        *,
        endpoint: MqttEndpoint,
        client_id: str,
        topics: Sequence[str],
        deliver: Callable[[Inbound], None],
        paused: Callable[[], bool],
        protocol: str = "3.1.1",
        session_expiry_s: int = 3600,
        receive_maximum: int = 4096,
        keepalive_s: int = 30,
        tls_ca_file: str | None = None,
        legacy_topics: Sequence[str] = (),
        on_crash: OnCrash | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be '5' or '3.1.1', got {protocol!r}")
        self.endpoint = endpoint
        self.client_id = client_id
        self.topics = list(topics)
        self.legacy_topics = list(legacy_topics)
        self.protocol = protocol
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.tls_ca_file = tls_ca_file
        self.connected = False
        self.generation = 0  # only the network thread changes it
        self._deliver = deliver
        self._client = self._make_client()
        self._loop = NetworkLoop(self._client, name=f"gateway-network-{client_id}", paused=paused,
                                 on_crash=on_crash)

    def start(self) -> None:
        """Connect in the background; the network thread starts with it."""
        self._client.connect_async(
            self.endpoint.host, self.endpoint.port, keepalive=self.keepalive_s, **self._connect_options()
        )
        self._loop.start()

    def stop(self) -> None:
        """Send what is queued (acknowledgements included), disconnect and end the network thread."""
        self._loop.stop()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until connected and subscribed (SUBACK, or a resumed session); ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while not self.connected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway not connected to {self.endpoint.url()} after {timeout:.0f} s")
            time.sleep(0.02)

    def acknowledge(self, acks: Sequence[Ack], done: Callable[[int], None]) -> None:
        """Acknowledge a committed batch's messages on the network thread, then call ``done(acked)`` there.

        Messages of an older connection are left to the broker's redelivery, not acknowledged.
        """

        def send() -> None:
            generation = self.generation
            acked = 0
            for mid, qos, message_generation in acks:
                if qos > 0 and message_generation == generation:
                    self._client.ack(mid, qos)
                    acked += 1
            done(acked)

        self._loop.call_soon(send)

    def wake(self) -> None:
        """Make the network thread look at ``paused()`` again."""
        self._loop.wake()

    # -- paho ------------------------------------------------------------------------------------------

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
        self.generation += 1
        # A resumed session still has the subscription; subscribing again would resend retained messages.
        if flags.session_present:
            if self.legacy_topics:
                # A session made by an older version may hold filters this one no longer wants.
                client.unsubscribe(self.legacy_topics)
            self.connected = True
        else:
            client.subscribe([(topic, 1) for topic in self.topics])  # connected is set by the SUBACK
        log.info("gateway connected to %s (session present: %s)", self.endpoint.url(), flags.session_present)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("broker refused the subscription to %s: %s", self.topics, reason_codes)
            return
        self.connected = True

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags, reason_code, properties) -> None:
        self.generation += 1
        self.connected = False
        if not self._loop.stopping:
            log.warning("gateway disconnected from broker: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._deliver(Inbound(message.mid, message.qos, message.topic, message.payload, datetime.now(UTC),
                              self.generation))
