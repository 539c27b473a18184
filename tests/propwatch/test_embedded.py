"""The embedded broker fallback: amqtt in-process when no Mosquitto binary is installed, never for a secured broker."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from gateway.credentials import BrokerAccess, Credential
from propwatch.embedded import EmbeddedBroker, SecuredBrokerUnavailable


def test_python_fallback_broker_carries_mqtt_311_messages(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path / "mqtt", prefer="amqtt")
    received = threading.Event()
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    subscriber.on_message = lambda client, userdata, message: received.set()
    try:
        assert broker.handle.kind == "amqtt"
        subscriber.connect(broker.handle.host, broker.handle.port)
        subscriber.loop_start()
        subscriber.subscribe("pw/v1/#", qos=1)
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        publisher.connect(broker.handle.host, broker.handle.port)
        publisher.loop_start()
        # Publish until the subscription is in place; it is asynchronous with no ack callback wired here.
        for _ in range(50):
            publisher.publish("pw/v1/S1/D1/telemetry", b"{}", qos=1).wait_for_publish(5)
            if received.wait(0.1):
                break
        publisher.loop_stop()
        publisher.disconnect()
        assert received.is_set()
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
        broker.stop()


def test_a_secured_broker_is_never_the_python_fallback(tmp_path: Path) -> None:
    access = BrokerAccess((Credential("propwatch-gateway", "secret"),), ())
    with pytest.raises(SecuredBrokerUnavailable, match="Mosquitto"):
        EmbeddedBroker(tmp_path / "mqtt", prefer="amqtt", access=access)
