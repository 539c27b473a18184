"""What the gateway counts and does not store is visible to an operator, probed as an outsider would: stock
``mosquitto_pub`` against the real broker, a real gateway on a real database, then the web process's
``/metrics`` and the dead-letter API (docs/ingest.md, "Dead letters"; docs/operations.md, metrics)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.dead_letters import DeadLetterPolicy
from gateway.protocol.endpoint import MqttEndpoint
from gateway.protocol.topics import topic_for
from gateway.service import Gateway
from propwatch.embedded import BrokerHandle

pytestmark = pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients not installed")

ALLOWANCE = 5  # dead letters one device may cause; no more later in the test (per_minute 0)
FLOOD = 200


@pytest.fixture
def gateway(mqtt_url: str, db_url: str, estate: str) -> Iterator[Gateway]:
    """A gateway of the test's estate that stores at most ``ALLOWANCE`` dead letters per device."""
    gw = Gateway(endpoint=MqttEndpoint.parse(mqtt_url), database_url=db_url, client_id=f"gw-{estate}",
                 sites=[estate], flush_interval_s=0.05, sweep_interval_s=None,
                 dead_letters=DeadLetterPolicy(burst=ALLOWANCE, per_minute=0.0))
    gw.start()
    gw.wait_connected()
    yield gw
    gw.stop()


@pytest.fixture
def mosquitto_pub(mqtt_broker: BrokerHandle, estate: str) -> Callable[..., None]:
    """Publish as the estate's elevator with the stock client, QoS 1: ``lines`` one message per line, or one
    empty message (``-n``)."""

    def publish(kind: str, *, lines: bytes | None = None) -> None:
        command = ["mosquitto_pub", "-h", mqtt_broker.host, "-p", str(mqtt_broker.port), "-q", "1",
                   "-t", topic_for(estate, f"{estate}-B01-EL01", kind)]
        command += ["-l"] if lines is not None else ["-n"]
        subprocess.run(command, input=lines, check=True, capture_output=True, timeout=60)

    return publish


def metric(client: TestClient, name: str, **labels: str) -> float | None:
    """The value of one sample of ``/metrics``, or None while it is absent."""
    text = client.get("/metrics").text
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name and dict(re.findall(r'(\w+)="([^"]*)"', match[2] or "")) == labels:
            return float(match[3])
    return None


def eventually(read: Callable[[], object], expected: object, timeout: float = 15.0) -> None:
    """``read()`` equals ``expected`` within ``timeout`` (the gateway reports every 2 s)."""
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected:
        assert time.monotonic() < deadline, f"still {seen!r}, expected {expected!r}"
        time.sleep(0.2)


def test_dead_letters_beyond_a_devices_allowance_are_counted_on_metrics(
        client: TestClient, gateway: Gateway, mosquitto_pub: Callable[..., None], estate: str) -> None:
    mosquitto_pub("telemetry", lines=b"not json\n" * FLOOD)

    eventually(lambda: metric(client, "propwatch_gateway_dead_letters_suppressed_total", gateway=f"gw-{estate}"),
               FLOOD - ALLOWANCE)
    assert metric(client, "propwatch_gateway_messages_total", gateway=f"gw-{estate}", outcome="rejected") == FLOOD
    assert metric(client, "propwatch_gateway_rejected_total", gateway=f"gw-{estate}", reason="bad_json") == FLOOD


def test_the_dead_letter_api_tells_stored_from_counted(
        client: TestClient, token_for: Callable[..., dict[str, str]], gateway: Gateway,
        mosquitto_pub: Callable[..., None]) -> None:
    mosquitto_pub("telemetry", lines=b"not json\n" * FLOOD)

    def page() -> tuple[int, int]:
        body = client.get("/api/v1/dead-letters", headers=token_for("operator")).json()
        return body["total"], body["suppressed"]

    eventually(page, (ALLOWANCE, FLOOD - ALLOWANCE))


def test_an_empty_message_is_counted_as_cleared_on_metrics(
        client: TestClient, gateway: Gateway, mosquitto_pub: Callable[..., None], estate: str) -> None:
    mosquitto_pub("telemetry")

    eventually(lambda: metric(client, "propwatch_gateway_messages_total", gateway=f"gw-{estate}",
                              outcome="cleared"), 1.0)
    assert metric(client, "propwatch_gateway_messages_total", gateway=f"gw-{estate}", outcome="rejected") == 0
