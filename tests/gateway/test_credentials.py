"""Generated password and ACL files work in a real Mosquitto: devices publish only under their own id."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker_config import BrokerConfig
from gateway.credentials import (
    Credential,
    derive_device_password,
    hash_password,
    verify_password,
    write_broker_auth,
    write_broker_auth_from_registry,
)
from ingest.registry import Device, Site, upsert_device, upsert_site
from propwatch.embedded import free_port, mosquitto_binary, wait_for_port

GATEWAY = Credential("propwatch-gateway", "gw-secret")


def test_hash_round_trips_and_rejects_a_wrong_password() -> None:
    hashed = hash_password("s3cret")
    assert hashed.startswith("$7$101$")
    assert verify_password("s3cret", hashed) and not verify_password("other", hashed)


def test_hash_matches_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    tool = "mosquitto_passwd"
    if subprocess.run(["which", tool], capture_output=True).returncode != 0:
        pytest.skip("mosquitto_passwd not installed")
    path = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(path), "alice", "wonderland"], check=True)
    assert verify_password("wonderland", path.read_text().strip().split(":", 1)[1])


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Mosquitto with anonymous access off and the generated auth files; yields (port, auth dir)."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto not installed")
    auth = tmp_path / "auth"
    passwd, acl = write_broker_auth(auth, gateway=GATEWAY, devices={"DEV-A": "pw-a", "DEV-B": "pw-b"})
    config = BrokerConfig(port=free_port(), data_dir=tmp_path / "mqtt", allow_anonymous=False,
                          password_file=passwd, acl_file=acl, run_as="root" if os.geteuid() == 0 else None)
    path = config.write(tmp_path / "mosquitto.conf")
    process = subprocess.Popen([binary, "-c", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", config.port)
        yield config.port, auth
    finally:
        process.terminate()
        process.wait(10)




def _connect_result(port: int, user: str, password: str) -> bool:
    done = threading.Event()
    result: list[bool] = []
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    client.on_connect = lambda c, u, f, rc, p: (result.append(not rc.is_failure), done.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(5)
    client.disconnect()
    client.loop_stop()
    return bool(result and result[0])


def _received_by_gateway(port: int, publishes: list[tuple[str, str, str]]) -> list[str]:
    """Publish (user, password, topic) as devices; return the topics the gateway user received."""
    got: list[str] = []
    subscribed = threading.Event()
    gw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    gw.username_pw_set(GATEWAY.username, GATEWAY.password)
    gw.on_subscribe = lambda *a: subscribed.set()
    gw.on_message = lambda c, u, m: got.append(m.topic)
    gw.connect("127.0.0.1", port)
    gw.loop_start()
    gw.subscribe("pw/v1/#", qos=1)
    assert subscribed.wait(5)
    for user, password, topic in publishes:
        dev = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        dev.username_pw_set(user, password)
        dev.connect("127.0.0.1", port)
        dev.loop_start()
        dev.publish(topic, b"{}", qos=1).wait_for_publish(5)
        dev.disconnect()
        dev.loop_stop()
    # A denied QoS 1 publish is acknowledged but dropped, so wait for the allowed ones plus a margin.
    threading.Event().wait(0.5)
    gw.disconnect()
    gw.loop_stop()
    return sorted(got)


def test_a_device_with_the_right_password_connects(secured_broker) -> None:
    port, _ = secured_broker
    assert _connect_result(port, "DEV-A", "pw-a")


def test_a_wrong_password_is_refused(secured_broker) -> None:
    port, _ = secured_broker
    assert not _connect_result(port, "DEV-A", "pw-b")


def test_a_device_publishes_only_under_its_own_id(secured_broker) -> None:
    port, _ = secured_broker
    got = _received_by_gateway(port, [
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-A/telemetry"),
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-B/telemetry"),
        ("DEV-B", "pw-b", "pw/v1/S1/DEV-B/event"),
    ])
    assert got == ["pw/v1/S1/DEV-A/telemetry", "pw/v1/S1/DEV-B/event"]


def test_registry_devices_get_derived_passwords(db, tmp_path: Path) -> None:
    upsert_site(db, Site("S1", "Estate"))
    upsert_device(db, Device("S1-EL01", "S1", "elevator", "Lift 1"))
    passwd, _ = write_broker_auth_from_registry(db, tmp_path, gateway=GATEWAY, master_key=b"k" * 32)
    lines = dict(line.split(":", 1) for line in passwd.read_text().splitlines())
    assert set(lines) == {"S1-EL01", GATEWAY.username}
    assert verify_password(derive_device_password(b"k" * 32, "S1-EL01"), lines["S1-EL01"])
