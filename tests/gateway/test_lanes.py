"""Events and presence travel on a lane of their own: a session, batches and a writer apart from telemetry, so
a telemetry backlog at the broker does not delay an entrapment."""

from __future__ import annotations

import shutil
import subprocess
import time

import orjson
import pytest

from gateway.protocol import topic_for
from gateway.protocol.endpoint import MqttEndpoint
from ingest.records import Batch, DeviceEvent, Sample

from .conftest import count, now_ms, wait_until

BACKLOG = 20_000


def is_entrapment(record: Sample | DeviceEvent) -> bool:
    return isinstance(record, DeviceEvent) and record.code == "trapped"


def slow_telemetry(batch: Batch) -> None:
    """A rules engine that takes 0.2 s over every telemetry batch: the backlog drains for seconds."""
    if batch.samples:
        time.sleep(0.2)


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients not installed")
def test_an_entrapment_is_committed_while_a_telemetry_backlog_drains(make_gateway, publisher, mqtt_url, db, site_id,
                                                                     elevators) -> None:
    client_id = f"gw-{site_id}-lanes"
    make_gateway(client_id=client_id).stop()  # the sessions exist: the broker queues for them from now on
    base = now_ms() - 60_000
    lines = b"\n".join(orjson.dumps({"ts": base + i, "seq": i + 1, "metrics": {"load": 1.0}})
                       for i in range(BACKLOG))
    broker = MqttEndpoint.parse(mqtt_url)
    subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q", "1", "-l",
                    "-t", topic_for(site_id, elevators[0], "telemetry")], input=lines, check=True, timeout=120)
    make_gateway(client_id=client_id, urgent=is_entrapment, on_committed=slow_telemetry, receive_maximum=500)
    wait_until(lambda: count(db, "SELECT count(*) FROM readings") > 0)
    sent = time.monotonic()
    publisher.publish(topic_for(site_id, elevators[1], "event"), {"ts": now_ms(), "seq": 1, "code": "trapped"})
    wait_until(lambda: count(db, "SELECT count(*) FROM device_events WHERE code = 'trapped'") == 1, timeout=5)
    assert time.monotonic() - sent < 1.0
    assert count(db, "SELECT count(*) FROM readings") < BACKLOG  # telemetry still queued behind it
    wait_until(lambda: count(db, "SELECT count(*) FROM readings") == BACKLOG, timeout=120)


def test_the_sessions_take_their_own_kinds(make_gateway, site_id) -> None:
    gateway = make_gateway(sites=[site_id], shared_group="g1")
    assert sorted(gateway.topics) == sorted(f"$share/g1/pw/v1/{site_id}/+/{kind}"
                                            for kind in ("event", "state", "telemetry"))
    assert [lane.session.client_id for lane in gateway.lanes] == [f"gw-{site_id}-safety", f"gw-{site_id}"]
