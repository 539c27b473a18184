"""Fixtures for gateway tests: a registered estate, a device-side publisher and gateways that clean up."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from ingest.registry import Device, Site, upsert_device, upsert_site


@pytest.fixture
def devices(db: psycopg.Connection, site_id: str) -> list[str]:
    """Three registered devices of the test's site: an elevator, a water pump set and a fire panel."""
    upsert_site(db, Site(site_id, f"Estate {site_id}"))
    ids = [f"{site_id}-EL01", f"{site_id}-WS01", f"{site_id}-FS01"]
    for device_id, kind in zip(ids, ("elevator", "water_supply", "fire_system"), strict=True):
        upsert_device(db, Device(device_id, site_id, kind, device_id))
    return ids


class Publisher:
    """A device-side MQTT client publishing QoS 1 and waiting for each PUBACK."""

    def __init__(self, url: str) -> None:
        endpoint = MqttEndpoint.parse(url)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.connect(endpoint.host, endpoint.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | dict, *, retain: bool = False) -> None:
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        info = self.client.publish(topic, data, qos=1, retain=retain)
        info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[Publisher]:
    pub = Publisher(mqtt_url)
    yield pub
    pub.close()


@pytest.fixture
def make_gateway(mqtt_url: str, db_url: str, site_id: str) -> Iterator[Callable[..., Gateway]]:
    """Start a connected gateway (own session per test); every one started is stopped afterwards. A gateway
    thread that dies fails the test instead of ending the test run."""
    started: list[Gateway] = []
    crashes: list[tuple[str, BaseException]] = []

    def make(**options: object) -> Gateway:
        options.setdefault("client_id", f"gw-{site_id}")
        options.setdefault("flush_interval_s", 0.05)
        options.setdefault("on_crash", lambda thread, exc: crashes.append((thread, exc)))
        gateway = Gateway(endpoint=MqttEndpoint.parse(str(options.pop("url", mqtt_url))),
                          database_url=db_url, **options)
        gateway.start()
        gateway.wait_connected()
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.stop()
    assert not crashes, f"gateway threads died: {crashes}"


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until true; fail the test with a clear message after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.05)


def count(conn: psycopg.Connection, sql: str, *params: object) -> int:
    return conn.execute(sql, params).fetchone()[0]


@pytest.fixture
def elevators(db: psycopg.Connection, site_id: str) -> list[str]:
    """Five registered elevators of the test's site."""
    upsert_site(db, Site(site_id, f"Estate {site_id}"))
    ids = [f"{site_id}-EL{i:02d}" for i in range(5)]
    for device_id in ids:
        upsert_device(db, Device(device_id, site_id, "elevator", device_id))
    return ids


class LoadPublisher:
    """Publishes elevator telemetry at ``rate`` msg/s in a thread, each message with a unique (device, ts).

    ``accepted()`` is the set the broker acknowledged (PUBACK): what the system must store. ``published()``
    also holds messages whose acknowledgement never came (e.g. the broker went down), which may be stored.
    """

    def __init__(self, url: str, site_id: str, devices: list[str], *, rate: float = 500.0) -> None:
        endpoint = MqttEndpoint.parse(url)
        self.site_id = site_id
        self.devices = devices
        self.rate = rate
        self.base_ms = now_ms()
        self._sent: list[tuple[mqtt.MQTTMessageInfo, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-publisher", daemon=True)
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"load-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(200)
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect(endpoint.host, endpoint.port)
        self.client.loop_start()

    def start(self) -> LoadPublisher:
        self._thread.start()
        return self

    def _run(self) -> None:
        start = time.monotonic()
        n = 0
        while not self._stop.is_set():
            if n > (time.monotonic() - start) * self.rate:
                time.sleep(0.002)
                continue
            device = self.devices[n % len(self.devices)]
            ts = self.base_ms + n
            payload = orjson.dumps({"ts": ts, "seq": n + 1, "metrics": {"load": float(n % 1000)}})
            info = self.client.publish(f"pw/v1/{self.site_id}/{device}/telemetry", payload, qos=1)
            self._sent.append((info, device, ts))
            n += 1

    def stop(self, settle_s: float = 10.0) -> None:
        """Stop publishing and wait (bounded) for outstanding acknowledgements."""
        self._stop.set()
        self._thread.join(5)
        deadline = time.monotonic() + settle_s
        while any(not _acked(info) for info, _, _ in self._sent) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.disconnect()
        self.client.loop_stop()

    def accepted(self) -> set[tuple[str, datetime]]:
        return {(d, _as_dt(ts)) for info, d, ts in self._sent if _acked(info)}

    def published(self) -> set[tuple[str, datetime]]:
        return {(d, _as_dt(ts)) for _, d, ts in self._sent}


def _acked(info: mqtt.MQTTMessageInfo) -> bool:
    # paho raises for a message first queued while disconnected; it may still arrive, but unconfirmed.
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False


def _as_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def stored_messages(conn: psycopg.Connection) -> set[tuple[str, datetime]]:
    return set(conn.execute("SELECT device_id, ts FROM reading_values WHERE metric = 'load'").fetchall())


def wait_for_stored(conn: psycopg.Connection, expected: set[tuple[str, datetime]], timeout: float = 40.0) -> None:
    """Wait until every expected message is in ``readings``; fail saying how many are missing."""
    deadline = time.monotonic() + timeout
    while True:
        missing = expected - stored_messages(conn)
        if not missing:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{len(missing)} of {len(expected)} accepted messages not stored after {timeout} s")
        time.sleep(0.2)
