"""Sessions nobody can take over: a device with valid credentials, using stock Mosquitto clients against the
project's secured broker configuration, cannot kick the gateway, wipe its session, fire another device's will,
or make the broker keep large or many retained messages."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker_config import MAX_PACKET_SIZE
from gateway.credentials import BrokerAccess, Credential, DeviceCredential
from gateway.protocol import topic_for
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from propwatch.embedded import EmbeddedBroker, mosquitto_binary

from .conftest import count, now_ms, wait_until

GATEWAY = Credential("propwatch-gateway", "gw-secret")
OFFLINE = orjson.dumps({"status": "offline"})
TIMED_OUT = 27  # mosquitto_sub's exit status after -W: it was connected the whole time


def _password(device_id: str) -> str:
    return f"pw-{device_id}"


@pytest.fixture
def secured(tmp_path: Path, site_id: str, devices: list[str]) -> Iterator[EmbeddedBroker]:
    """Mosquitto secured as in production, with logins for the gateway and the test's devices."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed")
    access = BrokerAccess((GATEWAY,), tuple(DeviceCredential(d, site_id, _password(d)) for d in devices))
    embedded = EmbeddedBroker(tmp_path / "mqtt", access=access)
    yield embedded
    embedded.stop()


@pytest.fixture
def broker(secured: EmbeddedBroker) -> int:
    """The secured broker's port."""
    return secured.port


def _connections_as(broker: EmbeddedBroker, client_id: str) -> int:
    """How many connections the broker has accepted under ``client_id`` (from its connection log)."""
    log = (broker.data_dir / "mosquitto.log").read_text(encoding="utf-8", errors="replace")
    return log.count(f" as {client_id} (")


@pytest.fixture
def start_gateway(broker: int, db_url: str) -> Iterator[Callable[[], Gateway]]:
    """Start a connected gateway with its own login; each one still running at the end is stopped."""
    running: list[Gateway] = []

    def start() -> Gateway:
        endpoint = MqttEndpoint("127.0.0.1", broker, GATEWAY.username, GATEWAY.password)
        gateway = Gateway(endpoint=endpoint, database_url=db_url, client_id=GATEWAY.username, flush_interval_s=0.05)
        gateway.start()
        gateway.wait_connected()
        running.append(gateway)
        return gateway

    yield start
    for gateway in running:
        gateway.stop()


def _stock(tool: str, port: int, device: str, *args: str, client_id: str | None = None,
           timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run ``mosquitto_pub``/``mosquitto_sub`` with ``device``'s own credentials (and any client id it likes)."""
    command = [tool, "-h", "127.0.0.1", "-p", str(port), "-u", device, "-P", _password(device), *args]
    if client_id is not None:
        command += ["-i", client_id]
    return subprocess.run(command, capture_output=True, timeout=timeout)


def _client(port: int, user: str, password: str, *, will_topic: str | None = None) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv311)
    client.username_pw_set(user, password)
    if will_topic:
        client.will_set(will_topic, OFFLINE, qos=1, retain=True)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(5), f"{user} could not connect"
    return client


def _publish_telemetry(port: int, site_id: str, device: str, n: int) -> None:
    """``n`` telemetry messages, each acknowledged by the broker before this returns."""
    client = _client(port, device, _password(device))
    base = now_ms()
    try:
        infos = [client.publish(topic_for(site_id, device, "telemetry"),
                                orjson.dumps({"ts": base + i, "seq": i + 1, "metrics": {"load": float(i)}}), qos=1)
                 for i in range(n)]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _stored(db: psycopg.Connection, device: str) -> int:
    return count(db, "SELECT count(*) FROM reading_values WHERE device_id = %s AND metric = 'load'", device)


class _Watcher:
    """A gateway-login subscriber recording (topic, payload, retained) of everything it receives."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=GATEWAY.username, protocol=mqtt.MQTTv311)
        self.client.username_pw_set(GATEWAY.username, GATEWAY.password)
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(5)

    def payloads(self, topic: str) -> list[bytes]:
        return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- device credentials, client id of the gateway ---------------------------------------------------------------

def test_a_device_using_the_gateways_client_id_does_not_wipe_its_session(
    broker: int, start_gateway, db, site_id: str, devices: list[str]
) -> None:
    start_gateway().stop()  # the broker keeps the session and queues for it while the gateway is away
    _publish_telemetry(broker, site_id, devices[0], 500)

    hostile = _stock("mosquitto_sub", broker, devices[1], "-t", topic_for(site_id, devices[1], "cmd"), "-W", "1",
                     client_id=GATEWAY.username)  # a clean session: on an unbound broker it erases the gateway's

    assert hostile.returncode == TIMED_OUT, hostile.stderr
    start_gateway()
    wait_until(lambda: _stored(db, devices[0]) == 500, timeout=20)


def test_a_device_using_the_gateways_client_id_leaves_the_gateway_connected(
    secured: EmbeddedBroker, start_gateway, db, site_id: str, devices: list[str]
) -> None:
    gateway = start_gateway()
    hostile = _stock("mosquitto_sub", secured.port, devices[1], "-t", topic_for(site_id, devices[1], "cmd"),
                     "-W", "1", client_id=GATEWAY.username)
    _stock("mosquitto_pub", secured.port, devices[1], "-t", topic_for(site_id, devices[1], "telemetry"), "-q", "1",
           "-m", orjson.dumps({"ts": now_ms(), "seq": 1, "metrics": {"load": 1.0}}).decode(),
           client_id=GATEWAY.username)
    _publish_telemetry(secured.port, site_id, devices[0], 50)

    wait_until(lambda: _stored(db, devices[0]) == 50)
    assert hostile.returncode == TIMED_OUT, hostile.stderr
    # The gateway reconnects within milliseconds, so its own state cannot show a takeover; the broker's log can.
    assert _connections_as(secured, GATEWAY.username) == 1
    assert gateway.stats().connected


# -- device credentials, another device's client id ------------------------------------------------------------

def test_a_device_using_another_devices_client_id_fires_no_will(broker: int, site_id: str,
                                                                 devices: list[str]) -> None:
    victim, attacker = devices[0], devices[1]
    state = topic_for(site_id, victim, "state")
    watcher = _Watcher(broker, state)
    drops: list[object] = []
    device = _client(broker, victim, _password(victim), will_topic=state)
    device.on_disconnect = lambda *args: drops.append(args)
    try:
        for _ in range(3):  # the issue saw three false offline alarms
            hostile = _stock("mosquitto_sub", broker, attacker, "-t", topic_for(site_id, attacker, "cmd"),
                             "-W", "1", client_id=victim)
            assert hostile.returncode == TIMED_OUT, hostile.stderr
        time.sleep(0.5)
        dropped = list(drops)  # before the clean disconnect below, which is one too
    finally:
        device.disconnect()
        device.loop_stop()
        watcher.close()

    assert dropped == []
    assert OFFLINE not in watcher.payloads(state)


def test_a_will_registered_on_another_devices_topic_never_fires(broker: int, site_id: str,
                                                                 devices: list[str]) -> None:
    victim, attacker = devices[0], devices[1]
    state = topic_for(site_id, victim, "state")
    watcher = _Watcher(broker, f"pw/v1/{site_id}/+/state")
    try:
        _drop_with_will(broker, attacker, site_id, will_topic=state)
        _drop_with_will(broker, attacker, site_id, will_topic=topic_for(site_id, attacker, "state"))
        wait_until(lambda: watcher.payloads(topic_for(site_id, attacker, "state")) == [OFFLINE], timeout=5)
    finally:
        watcher.close()

    assert watcher.payloads(state) == []


def _drop_with_will(port: int, device: str, site_id: str, *, will_topic: str) -> None:
    """Connect as ``device`` with a will on ``will_topic`` and die without a DISCONNECT, so the broker fires it."""
    command = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-u", device, "-P", _password(device),
               "-t", topic_for(site_id, device, "cmd"), "--will-topic", will_topic,
               "--will-payload", OFFLINE.decode(), "--will-qos", "1", "--will-retain"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    process.kill()
    process.wait(5)


# -- retained messages under one device's prefix ----------------------------------------------------------------

def test_two_hundred_large_retained_messages_under_a_devices_prefix_are_all_refused(
    broker: int, site_id: str, devices: list[str], tmp_path: Path
) -> None:
    device = devices[0]
    state = topic_for(site_id, device, "state")
    birth = orjson.dumps({"status": "online", "type": "elevator", "ts": now_ms()}).decode()
    _stock("mosquitto_pub", broker, device, "-t", state, "-m", birth, "-r", "-q", "1")
    large = tmp_path / "large"
    large.write_bytes(b"x" * (MAX_PACKET_SIZE + 1))
    own_prefix = [state] + [f"pw/v1/{site_id}/{device}/r{i}" for i in range(99)]
    other_sites = [f"pw/v1/X{i}/{device}/state" for i in range(100)]

    for topic in own_prefix + other_sites:
        _stock("mosquitto_pub", broker, device, "-t", topic, "-f", str(large), "-r", "-q", "1")

    assert _retained(broker, "pw/v1/#") == {state: birth.encode()}


def test_a_device_keeps_retained_messages_only_on_the_topics_it_may_publish(
    broker: int, site_id: str, devices: list[str]
) -> None:
    device = devices[0]
    own = [topic_for(site_id, device, kind) for kind in ("telemetry", "event", "state")]
    elsewhere = [f"pw/v1/{site_id}/{device}/r{i}" for i in range(100)]
    elsewhere += [f"pw/v1/X{i}/{device}/state" for i in range(100)]
    # One connection each: Mosquitto acknowledges a forbidden publish, then closes the connection.
    for topic in own + elsewhere:
        _stock("mosquitto_pub", broker, device, "-t", topic, "-m", "x" * 1000, "-r", "-q", "1")

    assert sorted(_retained(broker, "pw/v1/#")) == sorted(own)


def test_a_packet_over_the_bound_disconnects_the_device_and_is_not_kept(broker: int, site_id: str,
                                                                         devices: list[str], tmp_path: Path) -> None:
    device = devices[0]
    state = topic_for(site_id, device, "state")
    packet = tmp_path / "packet"
    packet.write_bytes(b"x" * MAX_PACKET_SIZE)  # from a file: one argument may not exceed 128 KiB
    result = _stock("mosquitto_pub", broker, device, "-t", state, "-f", str(packet), "-r", "-q", "1")

    assert result.returncode != 0
    assert _retained(broker, "pw/v1/#") == {}


def _retained(port: int, topic: str, settle_s: float = 1.0) -> dict[str, bytes]:
    """The retained messages a fresh subscription to ``topic`` receives."""
    watcher = _Watcher(port, topic)
    time.sleep(settle_s)
    watcher.close()
    return {t: payload for t, payload, retained in watcher.messages if retained}


def test_a_running_gateway_deletes_retained_readings_and_events_and_keeps_the_birth(
    broker: int, site_id: str, devices: list[str], db: psycopg.Connection, db_url: str
) -> None:
    device = devices[0]
    state, telemetry, event = (topic_for(site_id, device, kind) for kind in ("state", "telemetry", "event"))
    birth = orjson.dumps({"status": "online", "type": "elevator", "ts": now_ms()}).decode()
    reading = orjson.dumps({"ts": now_ms(), "seq": 1, "metrics": {"load": 7.0}}).decode()
    alarm = orjson.dumps({"ts": now_ms(), "seq": 2, "code": "door_close_fault"}).decode()
    for topic, payload in ((state, birth), (telemetry, reading), (event, alarm)):
        _stock("mosquitto_pub", broker, device, "-t", topic, "-m", payload, "-r", "-q", "1")
    endpoint = MqttEndpoint("127.0.0.1", broker, GATEWAY.username, GATEWAY.password)
    gateway = Gateway(endpoint=endpoint, database_url=db_url, client_id=GATEWAY.username, flush_interval_s=0.05,
                      sweep_interval_s=0.5)
    gateway.start()
    try:
        gateway.wait_connected()
        # The fresh sessions stored the retained copies once; the sweeper deleted them; the empty messages that
        # deleted them reached the gateway too and were neither stored nor dead-lettered.
        wait_until(lambda: gateway._sweeper.cleared >= 2, timeout=15)
        wait_until(lambda: _stored(db, device) == 1)
        events = "SELECT count(*) FROM device_events WHERE device_id = %s AND code = 'door_close_fault'"
        wait_until(lambda: count(db, events, device) == 1)
        assert gateway.stats().connected
    finally:
        gateway.stop()
    assert _retained(broker, "pw/v1/#") == {state: birth.encode()}
    assert count(db, "SELECT count(*) FROM dead_letters WHERE device_id = %s", device) == 0
