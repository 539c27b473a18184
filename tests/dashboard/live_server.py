"""`propwatch serve` as its own process, for the tests about the server itself: body streaming, memory, logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from psycopg.conninfo import conninfo_to_dict

from dashboard.serve import free_port


def as_url(conninfo: str) -> str:
    """A test database's connection string as the postgresql:// URL the settings take."""
    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    return f"postgresql:///{params.pop('dbname')}?{urlencode(params)}"


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen
    log_file: Path
    temp_dir: Path

    def log_lines(self) -> list[str]:
        """What the server wrote to stderr so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()

    def rss(self) -> int:
        """Resident memory now, in bytes."""
        return _status_kib(self.process.pid, "VmRSS") * 1024

    def peak_rss(self) -> int:
        """The most resident memory since start or since ``reset_peak``, in bytes (the kernel's high-water mark)."""
        return _status_kib(self.process.pid, "VmHWM") * 1024

    def reset_peak(self) -> None:
        """Start the high-water mark again from the current resident size."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


@contextmanager
def propwatch_serve(database: str, workdir: Path, **settings: str) -> Iterator[LiveServer]:
    """Run `propwatch serve` on ``database`` (a test connection string) with ``PROPWATCH_<NAME>`` settings; its
    temporary files go to ``workdir/tmp``."""
    port = free_port()
    temp_dir = workdir / "tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PROPWATCH_DATABASE_URL": as_url(database), "PROPWATCH_WEB_HOST": "127.0.0.1",
           "PROPWATCH_WEB_PORT": str(port), "PROPWATCH_SECRET_KEY": "s" * 40,
           "PROPWATCH_DATA_DIR": str(workdir / "data"), "TMPDIR": str(temp_dir),
           **{f"PROPWATCH_{k.upper()}": v for k, v in settings.items()}}
    log_file = workdir / "serve.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "propwatch", "serve"], env=env, stdout=log, stderr=log)
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log_file, temp_dir)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: LiveServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("propwatch serve exited:\n" + "\n".join(server.log_lines()[-20:]))
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("propwatch serve did not start")
