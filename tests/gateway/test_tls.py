"""The gateway reaches a broker over TLS (mqtts://) with the broker's CA, and refuses one it cannot verify."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gateway.broker_config import BrokerConfig
from gateway.protocol import topic_for
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import Gateway
from propwatch.embedded import free_port, mosquitto_binary, wait_for_port

from .conftest import Publisher, count, now_ms, wait_until


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_broker(tmp_path: Path):
    """Mosquitto with a plain listener (devices) and a TLS listener (gateway); yields (plain, tls, CA file)."""
    binary = mosquitto_binary()
    if binary is None or subprocess.run(["which", "openssl"], capture_output=True).returncode:
        pytest.skip("mosquitto and openssl are needed")
    pki = tmp_path / "pki"
    pki.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=propwatch test CA", cwd=pki)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=pki)
    (pki / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "1", "-extfile", "san.ext", cwd=pki)
    config = BrokerConfig(port=free_port(), data_dir=tmp_path / "mqtt", tls_port=free_port(),
                          certfile=pki / "server.crt", keyfile=pki / "server.key",
                          run_as="root" if os.geteuid() == 0 else None)
    path = config.write(tmp_path / "mosquitto.conf")
    process = subprocess.Popen([binary, "-c", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", config.tls_port)
        yield config.port, config.tls_port, str(pki / "ca.crt")
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.slow
def test_the_gateway_ingests_over_tls(tls_broker, make_gateway, db, site_id, devices):
    plain, tls, ca = tls_broker
    make_gateway(url=f"mqtts://127.0.0.1:{tls}", tls_ca_file=ca)
    device = Publisher(f"mqtt://127.0.0.1:{plain}")
    try:
        device.publish(topic_for(site_id, devices[0], "telemetry"), {"ts": now_ms(), "seq": 1, "metrics": {"load": 1}})
        wait_until(lambda: count(db, "SELECT count(*) FROM reading_values") == 1)
    finally:
        device.close()


@pytest.mark.slow
def test_a_broker_certificate_from_an_unknown_ca_is_refused(tls_broker, db_url, site_id):
    _, tls, _ = tls_broker
    gateway = Gateway(endpoint=MqttEndpoint.parse(f"mqtts://127.0.0.1:{tls}"), database_url=db_url,
                      client_id=f"gw-{site_id}-tls")
    gateway.start()
    try:
        with pytest.raises(TimeoutError):
            gateway.wait_connected(timeout=2)
    finally:
        gateway.stop()
