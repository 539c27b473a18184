"""`propwatch demo` as a newcomer runs it: URL and logins printed, the fault injected, a clean exit."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from propwatch.embedded import free_port

pytestmark = pytest.mark.slow
ROLES = ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")
ENV = {"PATH": "/usr/bin:/usr/sbin:/bin:/sbin", "PROPWATCH_LOG_LEVEL": "WARNING"}
BANNER_END = "a trapped-passenger fault is injected in"


def _run_demo(data_dir: Path, port: int, duration: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "propwatch", "demo", "--data-dir", str(data_dir), "--port", str(port),
         "--duration", str(duration)],
        capture_output=True, text=True, timeout=duration + 90, env=ENV,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path, int]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    port = free_port()
    return _run_demo(data_dir, port, duration=22), data_dir, port


def test_demo_exits_cleanly_after_its_duration(first_run) -> None:
    result, _, _ = first_run
    assert result.returncode == 0, result.stderr[-2000:]


def test_demo_prints_the_url(first_run) -> None:
    result, _, port = first_run
    assert f"http://127.0.0.1:{port}/" in result.stdout


def test_demo_prints_one_random_login_per_role(first_run) -> None:
    result, _, _ = first_run
    for role in ROLES:
        assert re.search(rf"^{role}: \S+ / \S{{12,}}$", result.stdout, re.MULTILINE), role


def test_demo_prints_the_broker_and_one_simulated_devices_login(first_run) -> None:
    result, _, _ = first_run
    assert re.search(r"^mqtt: mqtt://127\.0\.0\.1:\d+$", result.stdout, re.MULTILINE)
    assert re.search(r"^device: S001-\S+ / \S{20,}$", result.stdout, re.MULTILINE)


def test_demo_injects_a_trapped_passenger_within_30_seconds(first_run) -> None:
    result, _, _ = first_run
    assert "injected a trapped-passenger fault" in result.stdout


def test_demo_leaves_no_database_or_broker_running(first_run) -> None:
    _, data_dir, _ = first_run
    time.sleep(0.5)
    leftovers = [p.info for p in psutil.process_iter(["pid", "cmdline"])
                 if p.info["cmdline"] and any(str(data_dir) in part for part in p.info["cmdline"])]
    assert leftovers == []


def test_second_run_reuses_the_data_directory_with_fresh_passwords(first_run) -> None:
    result, data_dir, _ = first_run
    port = free_port()
    again = _run_demo(data_dir, port, duration=5)
    assert again.returncode == 0, again.stderr[-2000:]
    first_password = re.search(r"^operator: \S+ / (\S+)$", result.stdout, re.MULTILINE).group(1)
    second_password = re.search(r"^operator: \S+ / (\S+)$", again.stdout, re.MULTILINE).group(1)
    assert first_password != second_password
    assert (data_dir / "postgres" / "PG_VERSION").exists()


def test_device_logins_survive_a_restart_and_the_cli_prints_them(first_run) -> None:
    result, data_dir, _ = first_run
    device, password = re.search(r"^device: (\S+) / (\S+)$", result.stdout, re.MULTILINE).groups()
    printed = subprocess.run(
        [sys.executable, "-m", "propwatch", "broker", "device-password", device],
        capture_output=True, text=True, timeout=60, env={**ENV, "PROPWATCH_DATA_DIR": str(data_dir)},
    )
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert printed.stdout.strip() == password


@dataclass(frozen=True)
class RunningDemo:
    process: subprocess.Popen[bytes]
    web_port: int
    mqtt_port: int
    device: str
    password: str


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """A demo left running (up to 120 s) once its banner is printed; stopped after the module's tests."""
    workdir = tmp_path_factory.mktemp("running")
    output, errors = workdir / "stdout", workdir / "stderr"
    port = free_port()
    with output.open("wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "propwatch", "demo", "--data-dir", str(workdir / "d"), "--port", str(port),
             "--duration", "120"],
            stdout=out, stderr=err, env=ENV,
        )
    try:
        deadline = time.monotonic() + 60
        while BANNER_END not in (banner := output.read_text()):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the demo printed no banner (exit {process.poll()}): {errors.read_text()[-2000:]}")
            time.sleep(0.2)
        mqtt_port = re.search(r"^mqtt: mqtt://127\.0\.0\.1:(\d+)$", banner, re.MULTILINE).group(1)
        device, password = re.search(r"^device: (\S+) / (\S+)$", banner, re.MULTILINE).groups()
        yield RunningDemo(process, port, int(mqtt_port), device, password)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def _mosquitto_pub(demo: RunningDemo, *args: str) -> subprocess.CompletedProcess[str]:
    topic = f"pw/v1/S001/{demo.device}/telemetry"
    payload = json.dumps({"ts": int(time.time() * 1000), "seq": 1, "metrics": {"outlet_pressure": 0.3}})
    return subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(demo.mqtt_port), "-V", "mqttv5", "-q", "1", "-d",
         "-t", topic, "-m", payload, *args],
        capture_output=True, text=True, timeout=30,
    )


def test_web_app_and_public_board_answer_while_the_demo_runs(running_demo: RunningDemo) -> None:
    base = f"http://127.0.0.1:{running_demo.web_port}"
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        pytest.fail("web app never answered /healthz")
    assert httpx.get(f"{base}/board/S001", timeout=5).status_code == 200


def test_the_demo_broker_refuses_anonymous_clients(running_demo: RunningDemo) -> None:
    result = _mosquitto_pub(running_demo)
    assert result.returncode != 0
    assert "not authori" in result.stderr.lower()


def test_the_demo_broker_accepts_the_banners_device_login(running_demo: RunningDemo) -> None:
    result = _mosquitto_pub(running_demo, "-u", running_demo.device, "-P", running_demo.password)
    assert result.returncode == 0, result.stderr
    assert "received PUBACK (Mid: 1, RC:0)" in result.stdout


def test_the_demo_stops_cleanly_when_terminated(running_demo: RunningDemo) -> None:
    running_demo.process.terminate()
    assert running_demo.process.wait(30) == 0
