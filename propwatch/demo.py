"""``propwatch demo``: the whole system on embedded services, in one process, with one command.

Starts (or reuses) an embedded PostgreSQL and an MQTT broker under the data directory, migrates and seeds a
demo estate, runs the simulators, the pipeline and the web app, injects a trapped-passenger fault so a
newcomer sees the whole path, and stops everything cleanly on Ctrl-C or after ``--duration`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from dashboard.app import create_app
from ingest.database import connect
from propwatch import services
from propwatch.pipeline import Pipeline
from propwatch.schema import upgrade_database
from propwatch.seed import Login, seed_demo
from propwatch.settings import Settings
from simulators.estate import demo_estate
from simulators.site import SiteSimulator

log = logging.getLogger(__name__)
DEMO_SITE = "S001"
TRAPPED_AFTER_S = 5.0
GRACEFUL_SHUTDOWN_S = 3


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path
    port: int
    duration_s: float | None


def run_demo(settings: Settings, options: DemoOptions) -> None:
    """Run until Ctrl-C (or the duration elapses); every service started here is stopped on the way out."""
    stop = threading.Event()
    _stop_on_signals(stop)
    options.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        database_url = services.database_url(settings, stack, options.data_dir)
        endpoint, protocol = services.broker(settings, stack, options.data_dir)
        upgrade_database(database_url)
        layout = demo_estate(DEMO_SITE)
        with connect(database_url) as conn:
            logins = seed_demo(conn, layout)

        pipeline = Pipeline(database_url=database_url, endpoint=endpoint, protocol=protocol,
                            rules_file=settings.rules_file)
        pipeline.start()
        stack.callback(pipeline.stop)

        simulator = SiteSimulator(layout, mqtt_url=endpoint.url(with_password=True), protocol=protocol,
                                  ground_truth_path=options.data_dir / "ground-truth.jsonl")
        simulator.start()
        stack.callback(simulator.stop)
        trapped_timer = threading.Timer(TRAPPED_AFTER_S, _inject_trapped, args=(simulator, layout))
        trapped_timer.start()
        stack.callback(trapped_timer.cancel)

        server = _web_server(settings, database_url, options.port, options.data_dir)
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        stack.callback(web.join, 10)
        stack.callback(setattr, server, "should_exit", True)
        _print_welcome(settings.web_host, options.port, logins)

        stop.wait(options.duration_s)
        print("\nstopping propwatch demo ...", flush=True)
    print("stopped.", flush=True)


def _inject_trapped(simulator: SiteSimulator, layout) -> None:
    elevator = next(d for d in layout.devices if d.type == "elevator")
    simulator.inject(elevator.id, "trapped", duration_s=120)
    print(f"demo: injected a trapped-passenger fault on {elevator.id}", flush=True)


def _web_server(settings: Settings, database_url: str, port: int, data_dir: Path) -> uvicorn.Server:
    app = create_app(database_url=database_url, secret_key=settings.secret_key, uploads_dir=data_dir / "uploads")
    # Live-update streams stay open for minutes; shutdown must not wait for them.
    config = uvicorn.Config(app, host=settings.web_host, port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = uvicorn.Server(config)
    # Signals belong to the demo, which stops the server itself.
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    return server


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def _print_welcome(host: str, port: int, logins: list[Login]) -> None:
    lines = [
        "",
        f"propwatch demo is running: http://{host}:{port}/",
        f"public board (no login):   http://{host}:{port}/board/{DEMO_SITE}",
        "demo logins (new random passwords every run):",
        *(f"{login.role}: {login.username} / {login.password}" for login in logins),
        f"a trapped-passenger fault is injected in {TRAPPED_AFTER_S:.0f} s; press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
