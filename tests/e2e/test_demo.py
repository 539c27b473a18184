"""`propwatch demo` as a newcomer runs it: URL and logins printed, the fault injected, a clean exit."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from propwatch.embedded import free_port

pytestmark = pytest.mark.slow
ROLES = ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")


def _run_demo(data_dir: Path, port: int, duration: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "propwatch", "demo", "--data-dir", str(data_dir), "--port", str(port),
         "--duration", str(duration)],
        capture_output=True, text=True, timeout=duration + 90,
        env={"PATH": "/usr/bin:/usr/sbin:/bin:/sbin", "PROPWATCH_LOG_LEVEL": "WARNING"},
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


def test_web_app_and_public_board_answer_while_the_demo_runs(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "propwatch", "demo", "--data-dir", str(tmp_path / "d"), "--port", str(port),
         "--duration", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("web app never answered /healthz")
        assert httpx.get(f"http://127.0.0.1:{port}/board/S001", timeout=5).status_code == 200
    finally:
        process.terminate()
        assert process.wait(30) == 0
