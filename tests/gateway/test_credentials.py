"""Generated logins and ACLs work in a real Mosquitto: nobody anonymous, devices publish only on their own topics."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.broker_config import BrokerConfig
from gateway.credentials import (
    BrokerAccess,
    Credential,
    DeviceCredential,
    access_from_registry,
    derive_device_password,
    hash_password,
    verify_password,
    write_broker_auth,
)
from ingest.registry import Device, Site, upsert_device, upsert_site
from propwatch.embedded import EmbeddedBroker, mosquitto_binary

GATEWAY = Credential("propwatch-gateway", "gw-secret")
ACCESS = BrokerAccess((GATEWAY,), (DeviceCredential("DEV-A", "S1", "pw-a"), DeviceCredential("DEV-B", "S1", "pw-b")))


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


def test_a_device_named_like_the_gateway_is_refused() -> None:
    with pytest.raises(ValueError, match="used twice"):
        BrokerAccess((GATEWAY,), (DeviceCredential(GATEWAY.username, "S1", "pw"),))


@pytest.mark.parametrize("name", ["DEV/A", "DEV+", "#", "DEV A", ""])
def test_an_id_the_acl_cannot_pin_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        BrokerAccess((GATEWAY,), (DeviceCredential(name, "S1", "pw"),))


def test_auth_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    passwd, acl = write_broker_auth(tmp_path, ACCESS)
    assert passwd.stat().st_mode & 0o777 == 0o600
    assert acl.stat().st_mode & 0o777 == 0o600


def test_every_listener_of_a_secured_broker_binds_client_ids_to_user_names(tmp_path: Path) -> None:
    config = BrokerConfig(port=1883, data_dir=tmp_path, password_file=tmp_path / "p", acl_file=tmp_path / "a",
                          tls_port=8883, certfile=tmp_path / "c", keyfile=tmp_path / "k")
    lines = config.render().splitlines()
    listeners = [i for i, line in enumerate(lines) if line.startswith("listener ")]
    assert len(listeners) == 2
    for start in listeners:
        block = lines[start + 1:next((i for i in listeners if i > start), len(lines))]
        assert "use_username_as_clientid true" in block
    assert "allow_anonymous false" in lines


def test_a_password_file_without_an_acl_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both"):
        BrokerConfig(port=1883, data_dir=tmp_path, password_file=tmp_path / "p")


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[int]:
    """Mosquitto secured with ``ACCESS`` exactly as in production; yields its port."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed")
    broker = EmbeddedBroker(tmp_path / "mqtt", access=ACCESS)
    yield broker.port
    broker.stop()


def _connect_result(port: int, user: str | None, password: str | None) -> bool:
    done = threading.Event()
    result: list[bool] = []
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if user is not None:
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
    gw = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=GATEWAY.username,
                     protocol=mqtt.MQTTv5)
    gw.username_pw_set(GATEWAY.username, GATEWAY.password)
    gw.on_subscribe = lambda *a: subscribed.set()
    gw.on_message = lambda c, u, m: got.append(m.topic)
    gw.connect("127.0.0.1", port)
    gw.loop_start()
    gw.subscribe("pw/v1/#", qos=1)
    assert subscribed.wait(5)
    for user, password, topic in publishes:
        dev = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
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


def test_a_device_with_the_right_password_connects(secured_broker: int) -> None:
    assert _connect_result(secured_broker, "DEV-A", "pw-a")


def test_a_wrong_password_is_refused(secured_broker: int) -> None:
    assert not _connect_result(secured_broker, "DEV-A", "pw-b")


def test_an_anonymous_client_is_refused(secured_broker: int) -> None:
    assert not _connect_result(secured_broker, None, None)


def test_a_device_publishes_only_on_its_own_topics(secured_broker: int) -> None:
    got = _received_by_gateway(secured_broker, [
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-A/telemetry"),
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-B/telemetry"),
        ("DEV-A", "pw-a", "pw/v1/S2/DEV-A/telemetry"),
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-A/telemetry/extra"),
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-A/status"),
        ("DEV-A", "pw-a", "pw/v1/S1/DEV-A/cmd"),
        ("DEV-B", "pw-b", "pw/v1/S1/DEV-B/event"),
        ("DEV-B", "pw-b", "pw/v1/S1/DEV-B/state"),
    ])
    assert got == ["pw/v1/S1/DEV-A/telemetry", "pw/v1/S1/DEV-B/event", "pw/v1/S1/DEV-B/state"]


def test_registry_devices_get_derived_passwords_and_their_site(db) -> None:
    upsert_site(db, Site("S1", "Estate"))
    upsert_device(db, Device("S1-EL01", "S1", "elevator", "Lift 1"))
    access = access_from_registry(db, gateways=[GATEWAY], master_key=b"k" * 32)
    assert access.devices == (DeviceCredential("S1-EL01", "S1", derive_device_password(b"k" * 32, "S1-EL01")),)
