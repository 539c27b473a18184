"""The network loop owns a paho client on one thread: it connects, delivers messages, runs handed-over calls on
that thread, holds reading while paused, and stops cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.network_loop import NetworkLoop
from gateway.protocol.endpoint import MqttEndpoint

from .conftest import Publisher, wait_until


class _Subscriber:
    """A QoS 1 subscriber on a ``NetworkLoop``, acknowledging by hand on the loop's thread."""

    def __init__(self, url: str, topic: str) -> None:
        endpoint = MqttEndpoint.parse(url)
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, manual_ack=True)
        self.received: list[bytes] = []
        self.threads: set[str] = set()
        self.subscribed = threading.Event()
        self.paused = False
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect_async(endpoint.host, endpoint.port)
        self.loop = NetworkLoop(self.client, name="test-network", paused=lambda: self.paused)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.received.append(message.payload)
        self.threads.add(threading.current_thread().name)
        client.ack(message.mid, message.qos)


@pytest.fixture
def subscriber(mqtt_url: str, site_id: str) -> Iterator[_Subscriber]:
    sub = _Subscriber(mqtt_url, f"{site_id}/#")
    sub.loop.start()
    assert sub.subscribed.wait(10)
    yield sub
    sub.loop.stop()


def test_messages_are_delivered_on_the_loops_thread(subscriber: _Subscriber, publisher: Publisher,
                                                    site_id: str) -> None:
    for n in range(50):
        publisher.publish(f"{site_id}/x", str(n).encode())
    wait_until(lambda: len(subscriber.received) == 50)
    assert subscriber.received == [str(n).encode() for n in range(50)]
    assert subscriber.threads == {"test-network"}


def test_a_handed_over_call_runs_on_the_loops_thread(subscriber: _Subscriber) -> None:
    ran_on: list[str] = []
    subscriber.loop.call_soon(lambda: ran_on.append(threading.current_thread().name))
    wait_until(lambda: ran_on == ["test-network"])


def test_nothing_is_read_while_paused_and_everything_after(subscriber: _Subscriber, publisher: Publisher,
                                                           site_id: str) -> None:
    subscriber.paused = True
    subscriber.loop.wake()
    time.sleep(0.1)  # the loop is back in its wait, without the socket
    for n in range(20):
        publisher.publish(f"{site_id}/x", str(n).encode())
    time.sleep(0.5)
    assert subscriber.received == []
    subscriber.paused = False
    subscriber.loop.wake()
    wait_until(lambda: len(subscriber.received) == 20)


def test_stopping_twice_is_harmless(subscriber: _Subscriber) -> None:
    subscriber.loop.stop()
    subscriber.loop.stop()
    subscriber.loop.call_soon(lambda: None)  # after the stop: dropped, no error
