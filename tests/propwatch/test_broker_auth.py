"""Device credentials and topic ACLs in every mode: the embedded broker of `propwatch pipeline` and the files
`propwatch broker write-auth` writes for an external Mosquitto, probed with stock Mosquitto clients."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import orjson
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from gateway.broker_config import BrokerConfig
from gateway.credentials import verify_password
from gateway.protocol import topic_for
from ingest.database import connect
from ingest.registry import Device, Site, upsert_device, upsert_site
from propwatch import services
from propwatch.broker_auth import MASTER_KEY_FILE, SECRETS_DIR, embedded_secrets, master_key
from propwatch.embedded import free_port, mosquitto_binary, wait_for_port
from propwatch.settings import Settings, SettingsError, load_settings

MASTER_KEY = "k" * 40
GATEWAY_PASSWORD = "gateway-password-for-tests"
NOT_AUTHORISED = b"not authorised"

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto not installed")


def _as_url(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    query = f"?host={quote(params['host'])}" if params.get("host", "").startswith("/") else ""
    host = "" if query else params.get("host", "")
    port = f":{params['port']}" if params.get("port") and not query else ""
    return f"postgresql://{params.get('user', '')}@{host}{port}/{params['dbname']}{query}"


def _environment(**settings: str) -> dict[str, str]:
    """The test's environment without any PROPWATCH_ setting of its own, plus ``settings``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROPWATCH_")}
    return {**clean, **settings}


def _propwatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "propwatch", *args], capture_output=True, text=True, timeout=60,
                          env=_environment(**env))


def _publish(port: int, topic: str, payload: bytes, *login: str) -> subprocess.CompletedProcess[bytes]:
    """``mosquitto_pub`` at QoS 1, logged in as ``login`` (user, password) or anonymous when empty."""
    credentials = ["-u", login[0], "-P", login[1]] if login else []
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), *credentials, "-t", topic,
                           "-m", payload, "-q", "1"], capture_output=True, timeout=30)


def _telemetry(seq: int) -> bytes:
    return orjson.dumps({"ts": int(time.time() * 1000), "seq": seq, "metrics": {"load": 1.0}})


def _register(conn: psycopg.Connection, site_id: str, device_id: str) -> None:
    upsert_site(conn, Site(site_id, f"Estate {site_id}"))
    upsert_device(conn, Device(device_id, site_id, "elevator", device_id))


def _derived(key: str, device_id: str) -> str:
    """What a provisioning tool computes: base64url(HMAC-SHA256(key, device id)), unpadded."""
    digest = hmac.new(key.encode(), device_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class RunningPipeline:
    port: int
    data_dir: Path
    database_url: str
    site_id: str
    device_id: str


@pytest.fixture(scope="module")
def running_pipeline(tmp_path_factory: pytest.TempPathFactory,
                     scratch_database: Callable[..., AbstractContextManager[str]],
                     template_database: str) -> Iterator[RunningPipeline]:
    """`propwatch pipeline` on an embedded broker (no broker URL, no master key set), one device registered."""
    data_dir = tmp_path_factory.mktemp("pipeline")
    site_id = f"T{uuid.uuid4().hex[:10]}"
    with scratch_database(template_database) as conninfo:
        with connect(conninfo, autocommit=True) as conn:
            _register(conn, site_id, f"{site_id}-EL01")
        port = free_port()
        env = _environment(PROPWATCH_DATABASE_URL=_as_url(conninfo), PROPWATCH_DATA_DIR=str(data_dir),
                           PROPWATCH_MQTT_EMBEDDED_PORT=str(port), PROPWATCH_MQTT_LOGINS_REFRESH_S="0.2",
                           PROPWATCH_LOG_LEVEL="WARNING")
        process = subprocess.Popen([sys.executable, "-m", "propwatch", "pipeline"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port("127.0.0.1", port, timeout=60)
            yield RunningPipeline(port, data_dir, conninfo, site_id, f"{site_id}-EL01")
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr


def _device_password(pipeline: RunningPipeline, device_id: str) -> str:
    result = _propwatch("broker", "device-password", device_id, PROPWATCH_DATA_DIR=str(pipeline.data_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_pipelines_embedded_broker_refuses_an_anonymous_publish(running_pipeline: RunningPipeline) -> None:
    topic = topic_for(running_pipeline.site_id, running_pipeline.device_id, "telemetry")
    result = _publish(running_pipeline.port, topic, _telemetry(1))
    assert result.returncode != 0
    assert NOT_AUTHORISED in result.stderr


def test_the_pipeline_stores_what_a_device_publishes_with_its_derived_password(
        running_pipeline: RunningPipeline) -> None:
    device = running_pipeline.device_id
    topic = topic_for(running_pipeline.site_id, device, "telemetry")
    login = (device, _device_password(running_pipeline, device))
    with connect(running_pipeline.database_url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        seq = 0
        # The gateway may still be connecting: publish until one message is stored.
        while not conn.execute("SELECT count(*) FROM reading_values WHERE device_id = %s", (device,)).fetchone()[0]:
            assert time.monotonic() < deadline, "nothing stored within 30 s"
            seq += 1
            result = _publish(running_pipeline.port, topic, _telemetry(seq), *login)
            assert result.returncode == 0, result.stderr
            time.sleep(0.3)


def test_a_device_added_while_the_pipeline_runs_can_log_in_without_a_restart(
        running_pipeline: RunningPipeline) -> None:
    device = f"{running_pipeline.site_id}-EL02"
    topic = topic_for(running_pipeline.site_id, device, "telemetry")
    login = (device, _device_password(running_pipeline, device))
    assert NOT_AUTHORISED in _publish(running_pipeline.port, topic, _telemetry(1), *login).stderr
    with connect(running_pipeline.database_url, autocommit=True) as conn:
        _register(conn, running_pipeline.site_id, device)
    deadline = time.monotonic() + 10
    while (result := _publish(running_pipeline.port, topic, _telemetry(1), *login)).returncode != 0:
        assert time.monotonic() < deadline, f"the broker still refuses the new device: {result.stderr!r}"
        time.sleep(0.2)


def test_a_generated_master_key_is_kept_in_the_data_dir_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = load_settings(mqtt_master_key=None, mqtt_gateway_password=None, mqtt_url=None)
    first = embedded_secrets(settings, tmp_path)
    key_file = tmp_path / SECRETS_DIR / MASTER_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip().encode() == first.master_key
    assert embedded_secrets(settings, tmp_path) == first


def test_device_passwords_survive_a_restart_with_the_same_data_dir(tmp_path: Path, db_url: str, db,
                                                                   site_id: str) -> None:
    device = f"{site_id}-EL01"
    _register(db, site_id, device)
    topic = topic_for(site_id, device, "telemetry")
    settings = load_settings(mqtt_master_key=None, mqtt_gateway_password=None, mqtt_url=None,
                             mqtt_embedded_port=free_port(), data_dir=tmp_path)
    with contextlib.ExitStack() as stack:
        services.broker(settings, stack, db_url)
        password = _password_from(settings, device)
        assert _publish(settings.mqtt_embedded_port, topic, _telemetry(1), device, password).returncode == 0
    with contextlib.ExitStack() as stack:
        services.broker(settings, stack, db_url)
        result = _publish(settings.mqtt_embedded_port, topic, _telemetry(2), device, password)
    assert result.returncode == 0, result.stderr


def _password_from(settings: Settings, device_id: str) -> str:
    return _derived(master_key(settings, settings.data_dir).decode(), device_id)


def test_an_external_broker_url_without_a_login_gets_the_gateways_configured_login() -> None:
    settings = load_settings(mqtt_url="mqtt://broker.local:1883", gateway_client_id="gw-a",
                             mqtt_gateway_password=GATEWAY_PASSWORD)
    endpoint = services.external_endpoint(settings)
    assert (endpoint.username, endpoint.password) == ("gw-a", GATEWAY_PASSWORD)


@dataclass(frozen=True)
class WrittenAuth:
    result: subprocess.CompletedProcess[str]
    directory: Path
    site_id: str
    device_id: str


@pytest.fixture
def written_auth(tmp_path: Path, db, db_url: str, site_id: str) -> WrittenAuth:
    """`propwatch broker write-auth` run on a registry with one device, with a master key and gateway password."""
    device = f"{site_id}-EL01"
    _register(db, site_id, device)
    directory = tmp_path / "auth"
    result = _propwatch("broker", "write-auth", "--dir", str(directory), PROPWATCH_DATABASE_URL=_as_url(db_url),
                        PROPWATCH_MQTT_MASTER_KEY=MASTER_KEY, PROPWATCH_MQTT_GATEWAY_PASSWORD=GATEWAY_PASSWORD,
                        PROPWATCH_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    return WrittenAuth(result, directory, site_id, device)


@pytest.fixture
def external_mosquitto(tmp_path: Path, written_auth: WrittenAuth) -> Iterator[int]:
    """A Mosquitto started with the project's configuration template and the files write-auth wrote."""
    config = BrokerConfig(port=free_port(), data_dir=tmp_path / "mosquitto", persistence=False,
                          password_file=written_auth.directory / "passwd", acl_file=written_auth.directory / "acl",
                          run_as="root" if os.geteuid() == 0 else None)
    path = config.write(tmp_path / "mosquitto.conf")
    process = subprocess.Popen([mosquitto_binary(), "-c", str(path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", config.port)
        yield config.port
    finally:
        process.terminate()
        process.wait(10)


def test_write_auth_prints_the_files_and_the_mosquitto_conf_lines(written_auth: WrittenAuth) -> None:
    passwd, acl = written_auth.directory / "passwd", written_auth.directory / "acl"
    out = written_auth.result.stdout
    for line in (f"password_file {passwd}", f"acl_file {acl}", "allow_anonymous false",
                 "use_username_as_clientid true"):
        assert line in out
    assert "1 gateway and 1 device logins" in out
    assert {stat.S_IMODE(passwd.stat().st_mode), stat.S_IMODE(acl.stat().st_mode)} == {0o600}


def test_write_auth_files_let_the_gateway_receive_what_a_device_publishes(written_auth: WrittenAuth,
                                                                          external_mosquitto: int) -> None:
    topic = topic_for(written_auth.site_id, written_auth.device_id, "telemetry")
    # The gateway's default login: PROPWATCH_GATEWAY_CLIENT_ID with PROPWATCH_MQTT_GATEWAY_PASSWORD.
    subscriber = subprocess.Popen(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(external_mosquitto), "-u", "propwatch-gateway",
         "-P", GATEWAY_PASSWORD, "-t", "pw/v1/#", "-q", "1", "-C", "1", "-W", "20", "-v"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    device_login = (written_auth.device_id, _derived(MASTER_KEY, written_auth.device_id))
    deadline = time.monotonic() + 20
    # Publish until the subscriber, started concurrently, has its subscription and gets one.
    while subscriber.poll() is None and time.monotonic() < deadline:
        result = _publish(external_mosquitto, topic, _telemetry(1), *device_login)
        assert result.returncode == 0, result.stderr
        time.sleep(0.2)
    out, err = subscriber.communicate(timeout=30)
    assert subscriber.returncode == 0, err
    assert out.startswith(topic.encode())


def test_write_auth_files_make_mosquitto_refuse_anonymous_clients(written_auth: WrittenAuth,
                                                                  external_mosquitto: int) -> None:
    topic = topic_for(written_auth.site_id, written_auth.device_id, "telemetry")
    result = _publish(external_mosquitto, topic, _telemetry(1))
    assert result.returncode != 0
    assert NOT_AUTHORISED in result.stderr


def test_write_auth_without_a_master_key_stops_and_names_the_variable(tmp_path: Path) -> None:
    result = _propwatch("broker", "write-auth", "--dir", str(tmp_path / "auth"),
                        PROPWATCH_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode == 2
    assert "PROPWATCH_MQTT_MASTER_KEY" in result.stderr
    assert not (tmp_path / "auth").exists()


def test_device_password_prints_the_hmac_of_the_device_id_under_the_master_key() -> None:
    result = _propwatch("broker", "device-password", "S001-EL01", PROPWATCH_MQTT_MASTER_KEY=MASTER_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout == _derived(MASTER_KEY, "S001-EL01") + "\n"


def test_a_master_key_shorter_than_32_characters_stops_start_up_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPWATCH_MQTT_MASTER_KEY", "k" * 31)
    with pytest.raises(SettingsError, match="PROPWATCH_MQTT_MASTER_KEY"):
        load_settings()


def test_write_auth_gives_each_listed_gateway_worker_its_own_login(tmp_path: Path, db_url: str) -> None:
    logins = tmp_path / "gateways"
    logins.write_text("# one line per worker\ngw-a:password-of-worker-a\ngw-b:password-of-worker-b\n")
    result = _propwatch("broker", "write-auth", "--dir", str(tmp_path / "auth"), "--gateway-logins", str(logins),
                        PROPWATCH_DATABASE_URL=_as_url(db_url), PROPWATCH_MQTT_MASTER_KEY=MASTER_KEY)
    assert result.returncode == 0, result.stderr
    hashes = dict(line.split(":", 1) for line in (tmp_path / "auth" / "passwd").read_text().splitlines())
    assert "propwatch-gateway" not in hashes
    assert verify_password("password-of-worker-a", hashes["gw-a"])
    assert verify_password("password-of-worker-b", hashes["gw-b"])
