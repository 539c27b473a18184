"""The `propwatch` command line as an operator uses it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.conninfo import conninfo_to_dict

from gateway.protocol import topic_for
from gateway.protocol.endpoint import MqttEndpoint
from ingest.registry import Device, Site, upsert_device, upsert_site

DEFAULT_PACK = Path(__file__).resolve().parents[2] / "rules" / "packs" / "default.yaml"


def _propwatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "propwatch", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def _as_url(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    query = f"?host={quote(params['host'])}" if params.get("host", "").startswith("/") else ""
    host = "" if query else params.get("host", "")
    port = f":{params['port']}" if params.get("port") and not query else ""
    return f"postgresql://{params.get('user', '')}@{host}{port}/{params['dbname']}{query}"


def test_a_bad_setting_stops_with_exit_code_2_and_names_the_variable() -> None:
    result = _propwatch("db", "upgrade", PROPWATCH_MQTT_URL="http://broker:1883")
    assert result.returncode == 2
    assert "PROPWATCH_MQTT_URL" in result.stderr


def test_db_upgrade_on_a_migrated_database_applies_nothing(db_url: str) -> None:
    result = _propwatch("db", "upgrade", PROPWATCH_DATABASE_URL=_as_url(db_url))
    assert result.returncode == 0, result.stderr
    assert "applied 0 migrations" in result.stdout


def test_rules_check_accepts_the_default_pack() -> None:
    result = _propwatch("rules", "check", str(DEFAULT_PACK))
    assert result.returncode == 0, result.stdout + result.stderr


def test_simulate_hands_its_options_to_the_simulators() -> None:
    result = _propwatch("simulate", "--help")
    assert result.returncode == 0
    assert "load" in result.stdout and "faults" in result.stdout


def test_gateway_refuses_to_start_without_database_and_broker_urls() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPWATCH_")}
    result = subprocess.run([sys.executable, "-m", "propwatch", "gateway"], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 2
    assert "PROPWATCH_DATABASE_URL" in result.stderr


def test_gateway_stores_what_devices_publish_and_stops_cleanly_on_sigterm(db, db_url, mqtt_url, site_id) -> None:
    device_id = f"{site_id}-EL01"
    upsert_site(db, Site(site_id, f"Estate {site_id}"))
    upsert_device(db, Device(device_id, site_id, "elevator", device_id))
    env = {**os.environ, "PROPWATCH_DATABASE_URL": _as_url(db_url), "PROPWATCH_MQTT_URL": mqtt_url,
           "PROPWATCH_GATEWAY_CLIENT_ID": f"gw-{site_id}", "PROPWATCH_LOG_LEVEL": "WARNING"}
    gateway = subprocess.Popen([sys.executable, "-m", "propwatch", "gateway"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    device = _device_client(mqtt_url)
    try:
        deadline = time.monotonic() + 30
        while not db.execute("SELECT count(*) FROM reading_values").fetchone()[0]:
            assert time.monotonic() < deadline, "the gateway stored nothing within 30 s"
            payload = orjson.dumps({"ts": int(time.time() * 1000), "seq": 1, "metrics": {"load": 1}})
            device.publish(topic_for(site_id, device_id, "telemetry"), payload, qos=1).wait_for_publish(10)
            time.sleep(0.3)
    finally:
        device.disconnect()
        device.loop_stop()
        gateway.send_signal(signal.SIGTERM)
        _, stderr = gateway.communicate(timeout=30)
    assert gateway.returncode == 0, stderr


def _device_client(mqtt_url: str) -> mqtt.Client:
    endpoint = MqttEndpoint.parse(mqtt_url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    return client
