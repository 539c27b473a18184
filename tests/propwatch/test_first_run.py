"""A newcomer's first run: `make` says what it installs, `propwatch demo` keeps its banner on screen, raises its
entrapment after the banner, stops on Ctrl-C without a traceback, and a restart finds no device offline."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import subprocess
import sys
import termios
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from propwatch.embedded import EmbeddedPostgres, free_port

ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "press Ctrl-C to stop."
INJECTED = "demo: injected a trapped-passenger fault"
DISPATCHED_P0 = "notify [P0]"
# Under a loaded machine the embedded PostgreSQL, seeding and the anomaly history take a while.
STARTUP_TIMEOUT_S = 600


@dataclass(frozen=True)
class DemoRun:
    """What one `propwatch demo` printed before and after Ctrl-C, and how it exited."""

    returncode: int
    stdout: str
    stderr: str


def _wait_while_running(process: subprocess.Popen, seen: threading.Event) -> None:
    """Until ``seen`` is set, the process has exited, or the start-up timeout has passed."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not seen.wait(1) and process.poll() is None and time.monotonic() < deadline:
        pass


def _run_demo_until_ctrl_c(data_dir: Path, *, until: str) -> DemoRun:
    """Start the demo in a session of its own, wait for ``until`` in its output, load a page, then Ctrl-C the
    whole session as a terminal does (every process in the foreground group gets SIGINT)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPWATCH_")}
    env["PROPWATCH_MQTT_EMBEDDED_PORT"] = str(free_port())
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "propwatch", "demo", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True)
    output: dict[str, list[str]] = {"stdout": [], "stderr": []}
    seen = threading.Event()

    def read(name: str) -> None:
        for line in getattr(process, name):
            output[name].append(line)
            if until in line:
                seen.set()

    readers = [threading.Thread(target=read, args=(name,), daemon=True) for name in output]
    for reader in readers:
        reader.start()
    try:
        _wait_while_running(process, seen)
        said = "".join(output["stdout"] + output["stderr"][-20:])
        assert seen.is_set(), f"no {until!r} from the demo (exit code {process.poll()}):\n{said}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as response:
            assert response.status == 200
        os.killpg(process.pid, signal.SIGINT)
        returncode = process.wait(60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    for reader in readers:
        reader.join(10)
    return DemoRun(returncode, "".join(output["stdout"]), "".join(output["stderr"]))


def _run_make_demo_in_a_terminal_until_ctrl_c(data_dir: Path, makefile: Path, *, until: str) -> DemoRun:
    """``make demo`` in a pseudo-terminal of its own, Ctrl-C typed once ``until`` shows: the terminal sends SIGINT
    to its foreground process group, as it does for a person at the keyboard. Output is one stream."""
    port = free_port()
    makefile.write_text(f"demo:\n\t{sys.executable} -m propwatch demo --data-dir {data_dir} --port {port}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPWATCH_")}
    env["PROPWATCH_MQTT_EMBEDDED_PORT"] = str(free_port())
    controller, terminal = pty.openpty()

    def control_terminal() -> None:  # runs in the child after setsid: the pty becomes its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(["make", "--no-print-directory", "-f", str(makefile), "demo"], stdin=terminal,
                               stdout=terminal, stderr=terminal, env=env, cwd=ROOT, start_new_session=True,
                               preexec_fn=control_terminal)
    os.close(terminal)
    output: list[str] = []
    seen = threading.Event()

    def read() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: every process holding the terminal has exited
                break
            if not chunk:
                break
            pending += chunk
            output.append(chunk.decode(errors="replace"))
            if until.encode() in pending:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait_while_running(process, seen)
        assert seen.is_set(), f"no {until!r} from make demo (exit code {process.poll()}):\n" + "".join(output)
        os.write(controller, b"\x03")
        returncode = process.wait(60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    reader.join(10)
    os.close(controller)
    text = "".join(output).replace("\r\n", "\n")
    return DemoRun(returncode, text, text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoRun, DemoRun, Path]]:
    """The demo run twice on the same data directory, each stopped with Ctrl-C: alone, then under make in a
    terminal."""
    data_dir = tmp_path_factory.mktemp("demo")
    first = _run_demo_until_ctrl_c(data_dir, until=DISPATCHED_P0)
    second = _run_make_demo_in_a_terminal_until_ctrl_c(data_dir, tmp_path_factory.mktemp("make") / "Makefile",
                                                        until=INJECTED)
    yield first, second, data_dir


def _database(data_dir: Path) -> EmbeddedPostgres:
    """The demo's stopped PostgreSQL started again; pg_ctl gives up after 10 s, which a loaded machine exceeds."""
    for _ in range(5):
        try:
            return EmbeddedPostgres(data_dir / "postgres")
        except subprocess.CalledProcessError:
            continue
    return EmbeddedPostgres(data_dir / "postgres")


def _alarms_by_category(data_dir: Path, category: str) -> list[tuple[str, str]]:
    server = _database(data_dir)
    try:
        with psycopg.connect(server.url("propwatch")) as conn:
            return conn.execute("SELECT device_id, state FROM alarms WHERE category = %s ORDER BY id",
                                (category,)).fetchall()
    finally:
        server.stop()


def test_the_licence_is_an_spdx_expression_so_setuptools_has_no_licence_warning() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]


def test_the_install_says_what_it_is_doing_at_each_step() -> None:
    recipe = subprocess.run(["make", "-n", "-B", ".venv/.installed"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    steps = re.findall(r'^echo "(.+)"', recipe, re.MULTILINE)
    assert any("installing propwatch and its dependencies" in step for step in steps)
    assert "pip install -e '.[dev]'" in recipe
    assert "--quiet -e" not in recipe


@pytest.mark.slow
def test_ctrl_c_stops_the_demo_with_exit_code_0_and_no_traceback(runs) -> None:
    first, _, _ = runs
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert first.stdout.rstrip().endswith("stopped.")


@pytest.mark.slow
def test_ctrl_c_in_the_terminal_stops_make_demo_with_exit_code_0(runs) -> None:
    _, under_make, _ = runs
    assert under_make.returncode == 0, under_make.stdout
    assert "Traceback" not in under_make.stdout
    assert "make: ***" not in under_make.stdout
    assert under_make.stdout.rstrip().endswith("stopped.")


@pytest.mark.slow
def test_the_entrapment_is_injected_after_the_banner_with_the_logins(runs) -> None:
    first, _, _ = runs
    assert first.stdout.index(BANNER_END) < first.stdout.index(INJECTED)


@pytest.mark.slow
def test_the_demo_logs_no_line_per_request_that_would_scroll_the_banner_away(runs) -> None:
    first, _, _ = runs
    assert "propwatch.web.access" not in first.stderr
    assert '"path": "/login"' not in first.stderr


@pytest.mark.slow
def test_the_broker_outlives_ctrl_c_until_the_gateway_has_stopped(runs) -> None:
    first, _, _ = runs
    assert "gateway disconnected from broker" not in first.stderr


@pytest.mark.slow
def test_a_clean_stop_and_restart_raises_no_device_offline_alarm(runs) -> None:
    _, _, data_dir = runs
    assert _alarms_by_category(data_dir, "device_offline") == []


@pytest.mark.slow
def test_the_entrapment_stays_on_the_console_until_acknowledged(runs) -> None:
    _, _, data_dir = runs
    # Its fault ended when the first demo stopped; the P0 latches instead of clearing.
    states = {state for _, state in _alarms_by_category(data_dir, "elevator_entrapment")}
    assert states == {"active"}
