"""``propwatch demo``: the whole system on embedded services, in one process, with one command.

Starts (or reuses) an embedded PostgreSQL and an MQTT broker under the data directory, migrates and seeds a
demo estate, runs the simulators, the pipeline and the web app, injects a trapped-passenger fault so a
newcomer sees the whole path, and stops everything cleanly on Ctrl-C or after ``--duration`` seconds.

The embedded broker runs the production configuration: logins and ACLs generated from the registry at start,
nothing anonymous, client ids bound to user names. The master key and the gateway's password are kept under the
data directory as ``propwatch pipeline`` keeps them, so ``propwatch broker device-password`` works against a
running demo. The gateway logs in with its own login and the simulated devices with their derived passwords.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import uvicorn

from dashboard.app import create_app
from gateway.credentials import DeviceCredential, access_from_registry
from gateway.protocol.endpoint import MqttEndpoint
from ingest.database import connect
from propwatch import services
from propwatch.broker_auth import embedded_secrets
from propwatch.embedded import EmbeddedBroker, SecuredBrokerUnavailable
from propwatch.pipeline import Pipeline
from propwatch.schema import upgrade_database
from propwatch.seed import Login, seed_anomaly_history, seed_demo
from propwatch.settings import Settings
from simulators.estate import EstateLayout, demo_estate
from simulators.site import SiteSimulator

log = logging.getLogger(__name__)
DEMO_SITE = "S001"
TRAPPED_AFTER_S = 5.0
GRACEFUL_SHUTDOWN_S = 3
ACCESS_LOG = "propwatch.web.access"


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path
    port: int
    duration_s: float | None


@dataclass(frozen=True)
class DemoBroker:
    """The broker the demo runs on: the gateway's endpoint (with its login) and the devices' logins."""

    endpoint: MqttEndpoint
    protocol: str
    device_passwords: Mapping[str, str] = field(default_factory=dict)
    # One simulated device's login, printed so it can be pasted into a third-party client.
    shown_device: DeviceCredential | None = None


def run_demo(settings: Settings, options: DemoOptions) -> None:
    """Run until Ctrl-C (or the duration elapses); every service started here is stopped on the way out."""
    stop = threading.Event()
    _stop_on_signals(stop)
    options.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_ctrl_c_is_ours())
        database_url = services.database_url(settings, stack, options.data_dir)
        upgrade_database(database_url, storage=settings.storage)
        layout = demo_estate(DEMO_SITE)
        with connect(database_url) as conn:
            logins = seed_demo(conn, layout)
            broker = _broker(settings, stack, options.data_dir, conn, shown=_shown_device(layout))
        seed_anomaly_history(database_url, layout, now=datetime.now(UTC))

        pipeline = Pipeline(database_url=database_url, endpoint=broker.endpoint, protocol=broker.protocol,
                            rules_file=settings.rules_file, client_id=settings.gateway_client_id)
        pipeline.start()
        stack.callback(pipeline.stop)

        simulator = SiteSimulator(layout, mqtt_url=broker.endpoint.url(with_password=True), protocol=broker.protocol,
                                  passwords=broker.device_passwords,
                                  ground_truth_path=options.data_dir / "ground-truth.jsonl")
        simulator.start()
        # The devices pause with the demo: stopping it is no outage, so they leave without saying offline (a
        # restart would otherwise find an offline alarm for every device).
        stack.callback(simulator.stop, announce_offline=False)

        server = _web_server(settings, database_url, options.port, options.data_dir)
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        stack.callback(web.join, 10)
        stack.callback(setattr, server, "should_exit", True)
        _print_welcome(settings.web_host, options.port, logins, broker)
        # Counted from the banner, so the entrapment is never raised before anyone can know how to sign in.
        trapped_timer = threading.Timer(TRAPPED_AFTER_S, _inject_trapped, args=(simulator, layout))
        trapped_timer.start()
        stack.callback(trapped_timer.cancel)

        stop.wait(options.duration_s)
        print("\nstopping propwatch demo ...", flush=True)
    print("stopped.", flush=True)


def _broker(settings: Settings, stack: contextlib.ExitStack, data_dir: Path, conn: psycopg.Connection, *,
            shown: str) -> DemoBroker:
    """``PROPWATCH_MQTT_URL`` as configured, or an embedded Mosquitto secured with logins for the gateway and
    every registered device; raises ``SystemExit`` when no Mosquitto is installed to secure."""
    if settings.mqtt is not None:
        return DemoBroker(settings.mqtt, settings.mqtt_protocol)
    kept = embedded_secrets(settings, data_dir)
    gateway = kept.gateway
    access = access_from_registry(conn, gateways=[gateway], master_key=kept.master_key)
    try:
        embedded = EmbeddedBroker(data_dir / "mqtt", port=settings.mqtt_embedded_port, access=access)
    except SecuredBrokerUnavailable as exc:
        raise SystemExit(f"propwatch demo: {exc}; or set PROPWATCH_MQTT_URL to a broker of your own") from None
    stack.callback(embedded.stop)
    log.info("broker: embedded %s on %s with %d device logins", embedded.handle.kind, embedded.handle.url,
             len(access.devices))
    endpoint = MqttEndpoint(embedded.handle.host, embedded.handle.port, gateway.username, gateway.password)
    return DemoBroker(endpoint, settings.mqtt_protocol, {d.device_id: d.password for d in access.devices},
                      access.device(shown))


def _shown_device(layout: EstateLayout) -> str:
    # The pump room rather than the elevator the demo traps: a client logging in as a device takes over that
    # device's connection, and the entrapment story should not be interrupted by it.
    return next(d.id for d in layout.devices if d.type == "water_supply")


def _inject_trapped(simulator: SiteSimulator, layout) -> None:
    elevator = next(d for d in layout.devices if d.type == "elevator")
    simulator.inject(elevator.id, "trapped", duration_s=120)
    print(f"demo: injected a trapped-passenger fault on {elevator.id}", flush=True)


def _web_server(settings: Settings, database_url: str, port: int, data_dir: Path) -> uvicorn.Server:
    app = create_app(database_url=database_url, secret_key=settings.secret_key, uploads_dir=data_dir / "uploads")
    # A line per request would scroll the banner with the logins away within a minute of using the console;
    # the demo shows the web app's warnings and errors only.
    logging.getLogger(ACCESS_LOG).setLevel(logging.WARNING)
    # Live-update streams stay open for minutes; shutdown must not wait for them.
    config = uvicorn.Config(app, host=settings.web_host, port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = uvicorn.Server(config)
    # Signals belong to the demo, which stops the server itself.
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    return server


@contextlib.contextmanager
def _ctrl_c_is_ours() -> Iterator[None]:
    """Under ``make demo``, take the terminal's foreground so that Ctrl-C reaches the demo alone; give it back on
    the way out. Make would otherwise die of the same SIGINT after the demo stopped cleanly, and report it.

    Only when started by another program in the terminal's foreground (our process group is not our own);
    run from a shell, the demo already leads its group and nothing changes. Ctrl-Z is ignored meanwhile: a
    stopped demo would leave make waiting in the background with the terminal.
    """
    try:
        terminal = sys.stdin.fileno()
        inherited = os.getpgrp() != os.getpid() and os.tcgetpgrp(terminal) == os.getpgrp()
    except (OSError, ValueError):
        inherited = False
    if not inherited:
        yield
        return
    parent_group = os.getpgrp()
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTTOU, signal.SIGTSTP)}
    os.setpgid(0, 0)
    os.tcsetpgrp(terminal, os.getpgrp())
    try:
        yield
    finally:
        os.tcsetpgrp(terminal, parent_group)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def _print_welcome(host: str, port: int, logins: list[Login], broker: DemoBroker) -> None:
    device = broker.shown_device
    lines = [
        "",
        f"propwatch demo is running: http://{host}:{port}/",
        f"public board (no login):   http://{host}:{port}/board/{DEMO_SITE}",
        "demo logins (new random passwords every run):",
        *(f"{login.role}: {login.username} / {login.password}" for login in logins),
        f"mqtt: mqtt://{broker.endpoint.host}:{broker.endpoint.port}",
        *([f"device: {device.device_id} / {device.password}"] if device else []),
        f"a trapped-passenger fault is injected in {TRAPPED_AFTER_S:.0f} s; press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
