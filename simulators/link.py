"""One MQTT connection per simulated device, so that each device has its own will and its own session."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.protocol import TopicKind, topic_for
from gateway.protocol.endpoint import MqttEndpoint

log = logging.getLogger(__name__)
PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}


class DeviceLink:
    """Connects as the device (client id and username = device id), keeps the retained birth current, and
    hands ``cmd`` payloads to ``on_command``."""

    def __init__(self, endpoint: MqttEndpoint, site_id: str, device_id: str, *, protocol: str,
                 birth: Callable[[], bytes], will: bytes, on_command: Callable[[str, bytes], None],
                 qos: int = 1, password: str | None = None) -> None:
        """``password`` is the device's own broker password; without one, the endpoint's is used."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {sorted(PROTOCOLS)}, got {protocol!r}")
        self.site_id, self.device_id, self.qos = site_id, device_id, qos
        self._birth, self._on_command = birth, on_command
        self.connected = threading.Event()
        self.online = False  # false during a simulated network flap: what is sent then is lost
        self.sent = 0
        self.lost = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id, protocol=PROTOCOLS[protocol])
        self._client.username_pw_set(device_id, password if password is not None else endpoint.password)
        if endpoint.tls:
            self._client.tls_set()
        self._client.will_set(self.topic(TopicKind.STATE), will, qos=1, retain=True)
        self._client.on_connect = self._connected
        self._client.on_message = self._message
        self._endpoint = endpoint

    def topic(self, kind: str) -> str:
        """This device's topic for ``kind`` (any last level, so malformed topics can be produced)."""
        if kind in TopicKind.__members__.values():
            return topic_for(self.site_id, self.device_id, kind)
        return f"{topic_for(self.site_id, self.device_id, TopicKind.STATE).rsplit('/', 1)[0]}/{kind}"

    def connect(self) -> None:
        """Start connecting in the background; ``connected`` is set once the broker accepts."""
        self._client.connect_async(self._endpoint.host, self._endpoint.port, keepalive=30)
        self._client.loop_start()

    def publish(self, kind: str, payload: bytes, *, retain: bool = False) -> bool:
        """Publish on this device's topic; False (and counted as lost) while the link is down."""
        if not self.online:
            self.lost += 1
            return False
        info = self._client.publish(self.topic(kind), payload, qos=self.qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.lost += 1
            return False
        self.sent += 1
        return True

    def drop(self) -> None:
        """Lose the connection without a DISCONNECT packet, so the broker publishes the will."""
        self.online = False
        self.connected.clear()
        self._client.loop_stop()
        sock = self._client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("socket of %s already closed", self.device_id)

    def restore(self) -> None:
        """Reconnect after ``drop``; the birth is republished on connect."""
        self._client.reconnect_delay_set(1, 5)
        try:
            self._client.reconnect()
        except OSError:
            log.warning("reconnect of %s failed; paho keeps retrying", self.device_id)
        self._client.loop_start()

    def close(self, offline: bytes | None) -> None:
        """Clean shutdown: publish the retained ``offline`` state unless it is None (a clean disconnect sends no
        will), disconnect."""
        if self.online and offline is not None:
            info = self._client.publish(self.topic(TopicKind.STATE), offline, qos=1, retain=True)
            # Not connected (e.g. another client just took over this device's login): nothing to say goodbye on.
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(5)
        self.online = False
        self._client.disconnect()
        self._client.loop_stop()

    def _connected(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                   properties: object = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker refused %s: %s", self.device_id, reason)
            return
        client.subscribe(self.topic(TopicKind.CMD), qos=1)
        client.publish(self.topic(TopicKind.STATE), self._birth(), qos=1, retain=True)
        self.online = True
        self.connected.set()

    def _message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._on_command(self.device_id, message.payload)
