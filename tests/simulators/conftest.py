"""Helpers for simulator tests: run a device offline and look at what it sent, decoded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.protocol import EventMessage, TelemetryMessage, TopicKind, decode
from simulators.estate import EstateLayout, demo_estate
from simulators.offline import PlannedFault, run_offline

# Monday 2026-11-23 08:00 China time: morning peak, and 2 h before the weekly fire-pump test.
MONDAY_8AM = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@dataclass
class Trace:
    """Decoded output of one device: telemetry samples (merged per message) and events."""

    telemetry: list[TelemetryMessage]
    events: list[EventMessage]

    def series(self, metric: str) -> list[float]:
        return [m.metrics[metric] for m in self.telemetry if metric in m.metrics]

    def codes(self) -> list[str]:
        return [e.code for e in self.events]

    def samples(self, *metrics: str) -> list[dict[str, float]]:
        """Messages that carry every one of ``metrics``."""
        return [m.metrics for m in self.telemetry if all(name in m.metrics for name in metrics)]


@pytest.fixture(scope="session")
def estate() -> EstateLayout:
    return demo_estate("S001", buildings=1)


def _trace(layout: EstateLayout, device: str, *, duration_s: float, seed: int = 0, start: datetime = MONDAY_8AM,
           faults: tuple[PlannedFault, ...] = ()) -> Trace:
    """Run one device offline and decode everything it sent (each message must decode)."""
    telemetry: list[TelemetryMessage] = []
    events: list[EventMessage] = []
    for sent in run_offline(layout, start=start, duration_s=duration_s, seed=seed, faults=faults, devices=[device]):
        if sent.malformed:
            continue
        message: Any = decode(TopicKind(sent.kind), sent.payload, now=sent.ts)
        (telemetry if sent.kind == TopicKind.TELEMETRY else events).append(message)
    return Trace(telemetry, events)


@pytest.fixture(scope="session")
def trace():
    """``trace(layout, device_id, duration_s=..., seed=..., faults=(PlannedFault, ...)) -> Trace``."""
    return _trace


class Listener:
    """A real MQTT subscriber that records (topic, decoded JSON payload, retain flag)."""

    def __init__(self, url: str, topic: str) -> None:
        import threading

        import orjson
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from gateway.protocol.endpoint import MqttEndpoint

        self.messages: list[tuple[str, Any, bool]] = []
        self._changed = threading.Condition()
        endpoint = MqttEndpoint.parse(url)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        subscribed = threading.Event()

        def on_message(client, userdata, message):
            try:
                body = orjson.loads(message.payload)
            except orjson.JSONDecodeError:
                body = message.payload
            with self._changed:
                self.messages.append((message.topic, body, bool(message.retain)))
                self._changed.notify_all()

        self._client.on_message = on_message
        self._client.on_subscribe = lambda *args: subscribed.set()
        self._client.connect(endpoint.host, endpoint.port)
        self._client.subscribe(topic, qos=1)
        self._client.loop_start()
        assert subscribed.wait(5), "subscription not acknowledged"

    def wait_for(self, predicate, timeout: float = 5.0) -> list[tuple[str, Any, bool]]:
        """Block until some recorded message satisfies ``predicate``; return all such messages."""
        import time

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in self.messages if predicate(*m)]
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message in {timeout} s ({len(self.messages)} seen)")
                self._changed.wait(left)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def listen(mqtt_url):
    """``listen(topic_filter) -> Listener``; every listener is closed after the test."""
    listeners: list[Listener] = []

    def make(topic: str) -> Listener:
        listeners.append(Listener(mqtt_url, topic))
        return listeners[-1]

    yield make
    for listener in listeners:
        listener.close()
