"""Alarm benchmark: engine throughput on the default pack, and publish → alarm latency under background load.

``python -m benchmarks.alarms --json OUT.json`` prints the figures and writes them as JSON. The database is
``PROPWATCH_DATABASE_URL`` if set, else a throwaway embedded PostgreSQL. ``--overload`` runs only the overload
scenario: telemetry offered at 1.5 times what the pipeline sustains (measured first), P0 entrapments timed while
it backs up, and the telemetry lag reported beside them.

Engine throughput: an estate of elevators, fire systems, pump rooms and sump pits sends every catalogue metric
at its catalogue period; the batches are built in memory first, then timed through ``RuleEngine.process``
(evaluation plus the per-batch write of whatever transitions result, ~0.1 % of readings breach a rule).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gateway.precedence import Precedence
from gateway.protocol import EventMessage, TelemetryMessage, encode, topic_for
from gateway.protocol.catalog import catalog
from gateway.protocol.endpoint import MqttEndpoint
from gateway.service import FLUSH_INTERVAL_S, Gateway
from ingest.database import connect
from ingest.records import Batch
from ingest.registry import Building, Device, Site, upsert_building, upsert_device, upsert_site
from propwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from propwatch.pipeline import freeze_loaded_state
from propwatch.schema import upgrade_database
from propwatch.seed import register_estate
from rules.engine import RuleEngine
from rules.loader import default_pack
from rules.model import AnomalySpec
from simulators.estate import EstateLayout, demo_estate
from simulators.load import LoadConfig, run_load

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
# Values inside every default threshold, so breaches are the injected ones only.
NORMAL = {
    "speed": 1.0, "sprinkler_end_pressure": 0.12, "hydrant_pressure": 0.42, "fire_pump_auto": 1.0,
    "fire_tank_level": 4.0, "outlet_pressure": 0.30, "residual_chlorine": 0.3, "turbidity": 0.3,
    "pumps_auto": 1.0, "sump_level": 0.3, "tank_level": 3.0, "door_zone": 1.0, "door_status": 1.0,
    "passenger_status": 2.0, "service_mode": 1.0,
}
ATTRIBUTES = {
    "elevator": {"rated_speed": 1.75},
    "fire_system": {"tank_low_level": 2.0, "hydrant_min_pressure": 0.35},
    "water_supply": {"tank_low_level": 1.0},
    "drainage": {"high_level": 1.2, "overflow_level": 1.6},
}
# Devices per building: a typical high-rise has two lifts; fire, water and sump monitors are per building.
PER_BUILDING = {"elevator": 2, "fire_system": 1, "water_supply": 1, "drainage": 1}
WARM_UP_S = 10.0  # background load running before the first fault: start-up transients drain first
SETTLE_S = 12.0  # background load running after the last fault, while the last alarms and orders land
WARM_UP = 4
DRAIN_TIMEOUT_S = 900.0  # overload: longest wait for the calibration backlog to be stored


@contextmanager
def database() -> Iterator[str]:
    """A migrated, empty database for this run."""
    configured = os.environ.get("PROPWATCH_DATABASE_URL")
    if configured:
        upgrade_database(configured)
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg")
        try:
            url = server.ensure_database("bench")
            upgrade_database(url)
            yield url
        finally:
            server.stop()


def build_estate(url: str, buildings: int) -> list[Device]:
    """Register ``buildings`` buildings with their devices; returns the devices."""
    site = f"B{uuid.uuid4().hex[:8]}"
    devices = []
    with connect(url, autocommit=True) as conn:
        upsert_site(conn, Site(site, "基准小区"))
        for b in range(buildings):
            building = f"{site}-B{b:03d}"
            upsert_building(conn, Building(building, site, f"{b}号楼", floors=18))
            for device_type, count in PER_BUILDING.items():
                for n in range(count):
                    device = Device(f"{building}-{device_type[:2].upper()}{n}", site, device_type, device_type,
                                    building, attributes=ATTRIBUTES[device_type])
                    upsert_device(conn, device)
                    devices.append(device)
    return devices


def telemetry(devices: list[Device], seconds: int, batch_size: int) -> list[Batch]:
    """Every catalogue metric of every device at its period for ``seconds``, cut into batches.

    One reading in a thousand is a breach (low outlet pressure, sprinkler pressure, overspeed ...).
    """
    types = catalog()
    breach = {"elevator": ("speed", 2.5), "fire_system": ("sprinkler_end_pressure", 0.02),
              "water_supply": ("outlet_pressure", 0.05), "drainage": ("sump_level", 1.4)}
    readings: list[tuple[str, str, datetime, float]] = []
    counter = 0
    for second in range(seconds):
        ts = START + timedelta(seconds=second)
        for device in devices:
            for spec in types[device.type].metrics.values():
                if second % int(spec.period_s):
                    continue
                counter += 1
                value = NORMAL.get(spec.name, spec.min + (spec.max - spec.min) * 0.25)
                if counter % 1000 == 0:
                    name, value = breach[device.type]
                    # A millisecond later: a sample holds one value per metric, and the breach must not be
                    # merged away by the same metric's regular reading at ``ts``.
                    readings.append((device.id, name, ts + timedelta(milliseconds=1), value))
                    continue
                readings.append((device.id, spec.name, ts, value))
    return [Batch.of_readings(readings[i:i + batch_size]) for i in range(0, len(readings), batch_size)]


def anomaly_history(devices: list[Device], rows: int, batch_size: int) -> list[Batch]:
    """``rows`` to ``rows + 255`` readings of every anomaly-rule channel of every device before ``START``, at the
    channel's catalogue period, with a little deterministic noise: enough to arm the detectors and fit their
    multivariate models, so the timed run scores with armed, fitted detectors.

    The count differs by device, as in a live fleet whose devices were added at different times: with the same
    count for all, every detector reached its periodic refit (every 256 rows) in the same few timed rows, and the
    run measured a thousand refits at once instead of the engine's steady cost."""
    types = catalog()
    channels: dict[str, set[str]] = {}
    for rule in default_pack().rules:
        if isinstance(rule.spec, AnomalySpec) and rule.device_type:
            channels.setdefault(rule.device_type, set()).update(rule.spec.metrics)
    noise = random.Random(7)
    counts = {device.id: rows + (index * 61) % 256 for index, device in enumerate(devices)}
    readings: list[tuple[str, str, datetime, float]] = []
    for row in range(max(counts.values(), default=0)):
        for device in devices:
            count = counts[device.id]
            if row >= count:
                continue
            for name in sorted(channels.get(device.type, ())):
                spec = types[device.type].metrics[name]
                base = NORMAL.get(name, spec.min + (spec.max - spec.min) * 0.25)
                ts = START - timedelta(seconds=spec.period_s * (count - row))
                readings.append((device.id, name, ts, base * (1 + 0.02 * noise.gauss(0, 1)) + 0.01))
    return [Batch.of_readings(readings[i:i + batch_size]) for i in range(0, len(readings), batch_size)]


def engine_throughput(url: str, *, buildings: int, seconds: int, batch_size: int,
                      warmup_rows: int) -> dict[str, float]:
    """Readings per second through ``RuleEngine.process`` with the default pack, anomaly detectors armed."""
    devices = build_estate(url, buildings)
    history = anomaly_history(devices, warmup_rows, batch_size)
    batches = telemetry(devices, seconds, batch_size)
    total = sum(len(b) for b in batches)
    engine = RuleEngine(url)
    try:
        for batch in history:
            engine.process(batch, now=batch.samples[-1].ts)
        started = time.perf_counter()
        for batch in batches:
            engine.process(batch, now=batch.samples[-1].ts)
        elapsed = time.perf_counter() - started
        opened = len(engine.open_alarms())
    finally:
        engine.close()
    return {"engine_readings_per_s": total / elapsed, "engine_readings": total, "engine_seconds": elapsed,
            "engine_devices": len(devices), "engine_open_alarms": opened, "engine_anomaly_warmup_rows": warmup_rows}


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print/write its figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alarms", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--buildings", type=int, default=200, help="buildings in the throughput estate")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of telemetry for the throughput run")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--anomaly-warmup-rows", type=int, default=300,
                        help="untimed history rows of an anomaly detector before the run (plus 0-255 by device)")
    parser.add_argument("--lifts-buildings", type=int, default=100, help="buildings (2 lifts each) end to end")
    parser.add_argument("--background-rate", type=float, default=10_000.0,
                        help="background telemetry, messages per second (the load mode, 10 metrics each)")
    parser.add_argument("--background-lifts", type=int, default=10_000,
                        help="lifts sending the background telemetry (default: one message per lift per second "
                             "at the default rate, a lift's catalogue period)")
    parser.add_argument("--partitions", type=int, default=2,
                        help="pipeline processes, each taking its own sites (default: one per core here)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between injected faults")
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--overload", action="store_true",
                        help="only the overload run: measure the sustainable telemetry rate, offer --factor times "
                             "that, and time P0 entrapments while telemetry backs up")
    parser.add_argument("--factor", type=float, default=1.5, help="overload: offered / sustainable telemetry rate")
    parser.add_argument("--calibrate-rate", type=float, default=30_000.0,
                        help="overload: telemetry offered while measuring what the pipeline sustains")
    parser.add_argument("--calibrate-s", type=float, default=30.0, help="overload: seconds of calibration load")
    args = parser.parse_args(argv)
    results: dict[str, object] = {}
    with database() as url:
        if args.overload:
            results.update(overload(url, buildings=args.lifts_buildings, background_lifts=args.background_lifts,
                                    partitions=args.partitions, interval_s=args.interval,
                                    calibrate_rate=args.calibrate_rate, calibrate_s=args.calibrate_s,
                                    factor=args.factor))
        else:
            results.update(engine_throughput(url, buildings=args.buildings, seconds=args.seconds,
                                             batch_size=args.batch_size, warmup_rows=args.anomaly_warmup_rows))
        if not args.skip_end_to_end and not args.overload:
            results.update(end_to_end(url, buildings=args.lifts_buildings, rate=args.background_rate,
                                      background_lifts=args.background_lifts, partitions=args.partitions,
                                      interval_s=args.interval))
    for key, value in results.items():
        print(f"{key:28} {value:,.2f}" if isinstance(value, float) else f"{key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


class _Observer(threading.Thread):
    """Records when each alarm became active (its NOTIFY, sent at commit) and when each work order opened."""

    def __init__(self, url: str) -> None:
        super().__init__(name="bench-observer", daemon=True)
        self.url = url
        self.alarm_active: dict[str, float] = {}
        self.order_opened: dict[int, float] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with connect(self.url, autocommit=True) as conn:
            conn.execute("LISTEN pw_alarms")
            conn.execute("LISTEN pw_work_orders")
            self.ready.set()
            while not self.stop.is_set():
                for notice in conn.notifies(timeout=0.2):
                    now = time.time()
                    payload = json.loads(notice.payload)
                    if notice.channel == "pw_alarms" and payload.get("to") == "active":
                        self.alarm_active.setdefault(payload["fingerprint"], now)
                    elif notice.channel == "pw_work_orders":
                        self.order_opened.setdefault(payload["id"], now)


class _Dispatcher(threading.Thread):
    """Runs ``dispatch.alarm_sync.sync_alarms`` whenever alarm transitions are announced."""

    def __init__(self, url: str) -> None:
        super().__init__(name="bench-dispatch", daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        from dispatch.alarm_sync import sync_alarms

        with connect(self.url, autocommit=True) as listener, connect(self.url, autocommit=True) as worker:
            listener.execute("LISTEN pw_alarms")
            self.ready.set()
            while not self.stop.is_set():
                if list(listener.notifies(timeout=0.2, stop_after=1)):
                    sync_alarms(worker)


def background_values() -> dict[str, float]:
    """Elevator values inside every default threshold, for the background load."""
    return {m.name: NORMAL.get(m.name, m.min + (m.max - m.min) * 0.25) for m in catalog()["elevator"].metrics.values()}


def _background_load(url: str, layout: EstateLayout, rate: float, duration_s: float, out: Any) -> None:
    """The simulators' load mode (10 metrics per message, QoS 1) from the background estate's lifts, at
    ``rate`` messages per second; in its own process, so it does not compete for the interpreter lock.
    Reports the messages sent and acknowledged, and the seconds it took to send them."""
    report = run_load(layout, url, LoadConfig(rate=rate, duration_s=duration_s, qos=1, values=background_values()))
    out.put((report.sent, report.acked, report.elapsed_s))


def register_background(url: str, site_id: str, lifts: int) -> EstateLayout:
    """An estate ``site_id`` whose ``lifts`` (two per building) carry background load."""
    layout = demo_estate(site_id, buildings=max((lifts + 1) // 2, 2))
    with connect(url) as conn:
        register_estate(conn, layout)
        conn.commit()
    return layout


def _partition_worker(url: str, broker_url: str, sites: list[str], client_id: str, ready: Any, stop: Any,
                      out: Any) -> None:
    """One pipeline partition, as ``propwatch pipeline`` runs it with ``PROPWATCH_GATEWAY_SITES``: a gateway
    taking ``sites``, a rules engine on its commit path telling it which records are urgent, and the loaded
    state frozen out of garbage collection, the telemetry lane and evaluation stepping aside for urgent records.
    Reports its engine batch times when stopped."""
    precedence = Precedence()
    engine = RuleEngine(url, sites=sites, give_way=precedence)
    batch_ms: list[float] = []

    def evaluate(batch: Batch) -> None:
        started = time.perf_counter()
        engine.process(batch)
        batch_ms.append((time.perf_counter() - started) * 1000)

    gateway = Gateway(endpoint=MqttEndpoint.parse(broker_url), database_url=url, on_committed=evaluate,
                      urgent=engine.urgency, client_id=client_id, sites=sites, precedence=precedence)
    try:
        freeze_loaded_state()
        gateway.start()
        gateway.wait_connected()
        ready.set()
        stop.wait()
    finally:
        gateway.stop()
        engine.close()
    out.put(batch_ms)


class _Partitions:
    """Pipeline partitions in processes of their own (``_partition_worker``), one per list of sites."""

    def __init__(self, url: str, broker_url: str, sites: list[list[str]], run: str) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.stop, self.out = spawn.Event(), spawn.Queue()
        self.workers = []
        for n, taken in enumerate(sites):
            ready = spawn.Event()
            worker = spawn.Process(target=_partition_worker, daemon=True,
                                   args=(url, broker_url, taken, f"bench-gw-{run}-{n}", ready, self.stop, self.out))
            worker.start()
            self.workers.append((worker, ready))
        for _, ready in self.workers:
            ready.wait(60)

    def close(self) -> list[float]:
        """Stop every partition; their engine batch times in milliseconds."""
        self.stop.set()
        batch_ms: list[float] = []
        for worker, _ in self.workers:
            batch_ms.extend(self.out.get(timeout=60))
            worker.join(30)
        return batch_ms


class _Background:
    """Background telemetry from ``layouts``' lifts at ``rate`` in all, one load process per layout; forked
    before the calling process starts any thread."""

    def __init__(self, broker_url: str, layouts: list[EstateLayout], rate: float, duration_s: float) -> None:
        fork = multiprocessing.get_context("fork")
        self.duration_s = duration_s
        self.reports = fork.Queue()
        self.loads = [fork.Process(target=_background_load, daemon=True,
                                   args=(broker_url, layout, rate / len(layouts), duration_s, self.reports))
                      for layout in layouts]
        for load in self.loads:
            load.start()

    def close(self) -> list[tuple[int, int, float]]:
        """Wait for the load processes; (sent, acked, seconds) of each."""
        background = [self.reports.get(timeout=self.duration_s + 60) for _ in self.loads]
        for load in self.loads:
            load.join(60)
        return background


def _inject(publisher: mqtt.Client, lifts: list[Device], interval_s: float, *,
            entrapments_only: bool) -> dict[str, float]:
    """Publish an entrapment (or, on every other lift unless ``entrapments_only``, an overspeed reading) per lift;
    the wall time each alarm's fingerprint was published, the first ``WARM_UP`` left out."""
    published: dict[str, float] = {}
    for index, lift in enumerate(lifts):
        if index == WARM_UP:
            # The first faults warm caches and prepared statements along the path; they are not timed.
            time.sleep(1.0)
            published.clear()
        now = datetime.now(UTC)
        if entrapments_only or index % 2 == 0:
            message: EventMessage | TelemetryMessage = EventMessage(ts=now, seq=1, code="trapped")
            topic, fingerprint = topic_for(lift.site_id, lift.id, "event"), f"elevator.trapped/{lift.id}"
        else:
            message = TelemetryMessage(ts=now, seq=1, metrics={"speed": 3.0})
            topic = topic_for(lift.site_id, lift.id, "telemetry")
            fingerprint = f"elevator.overspeed/{lift.id}"
        published[fingerprint] = time.time()
        publisher.publish(topic, encode(message), qos=1)
        time.sleep(interval_s)
    return published


def _await_alarms(observer: _Observer, published: dict[str, float], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(observer.alarm_active) < len(published):
        time.sleep(0.1)
    time.sleep(2.0)


def _alarm_ms(observer: _Observer, published: dict[str, float]) -> list[float]:
    return [(observer.alarm_active[f] - t) * 1000 for f, t in published.items() if f in observer.alarm_active]


STAGES = ("received", "evaluated", "notified")


def _stages(url: str, observer: _Observer, published: dict[str, float]) -> dict[str, list[float]]:
    """Each timed entrapment's path in three stages, in milliseconds: publish to the gateway's receipt
    (``device_events.received_at``: broker and network thread), receipt to the start of the engine's
    transaction that wrote the alarm (the ``active`` transition's ``recorded_at``, ``now()`` of a transaction the
    engine opens as it starts a batch: batching, commit, waiting for the engine), and that to the NOTIFY seen
    (evaluation, transitions written and committed, notification delivered). Lists in ``published`` order."""
    devices = [fingerprint.split("/", 1)[1] for fingerprint in published]
    with connect(url) as conn:
        rows = conn.execute(
            """SELECT e.device_id, extract(epoch FROM e.received_at), extract(epoch FROM t.recorded_at)
                 FROM device_events e
                 JOIN alarms a ON a.fingerprint = 'elevator.trapped/' || e.device_id
                 JOIN alarm_transitions t ON t.alarm_id = a.id AND t.to_state = 'active'
                WHERE e.code = 'trapped' AND e.device_id = ANY(%s)""", (devices,)).fetchall()
    times = {device: (float(received), float(evaluated)) for device, received, evaluated in rows}
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for fingerprint, sent in published.items():
        device = fingerprint.split("/", 1)[1]
        notified = observer.alarm_active.get(fingerprint)
        if device not in times or notified is None:
            continue
        received, evaluated = times[device]
        for stage, ms in zip(STAGES, ((received - sent) * 1000, (evaluated - received) * 1000,
                                      (notified - evaluated) * 1000), strict=True):
            stages[stage].append(ms)
    return stages


def _slowest(stages: dict[str, list[float]], count: int = 5) -> list[dict[str, float]]:
    """The ``count`` slowest entrapments, stage by stage (where a tail waits)."""
    paths = [{stage: round(ms, 1) for stage, ms in zip(STAGES, values, strict=True)}
             for values in zip(*stages.values(), strict=True)]
    return sorted(paths, key=lambda path: -sum(path.values()))[:count]


def _estates_and_lifts(url: str, buildings: int, partitions: int) -> tuple[list[list[Device]], list[Device]]:
    """``partitions`` estates of ``buildings`` buildings in all, with the responsibility list imported; their
    lifts interleaved, so consecutive faults go to different partitions."""
    from dispatch.responsibility import default_list_path, import_list, parse_list

    estates = [build_estate(url, max(buildings // partitions, 1)) for _ in range(partitions)]
    with connect(url, autocommit=True) as conn:
        import_list(conn, parse_list(default_list_path().read_text(encoding="utf-8")), actor="bench")
    lifts = [lift for group in itertools.zip_longest(*([d for d in e if d.type == "elevator"] for e in estates))
             for lift in group if lift is not None]
    return estates, lifts


def end_to_end(url: str, *, buildings: int, rate: float, background_lifts: int, partitions: int,
               interval_s: float) -> dict[str, object]:
    """Publish an entrapment or an overspeed reading per lift; time to committed active alarm and work order.

    Each sample uses its own lift, so every alarm opens its own incident and work order. With ``partitions``
    > 1 the estates are split over that many sites and pipeline processes (docs/scaling.md), each taking
    its share of the background load and of the injected faults.
    """
    estates, lifts = _estates_and_lifts(url, buildings, partitions)
    run = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="pw-bench-mqtt-") as tmp:
        broker = EmbeddedBroker(Path(tmp))
        endpoint = MqttEndpoint.parse(broker.handle.url)
        backgrounds = [register_background(url, f"BGLOAD{n}", background_lifts // partitions)
                       for n in range(partitions)]
        load_s = WARM_UP_S + len(lifts) * interval_s + SETTLE_S
        pipelines = _Partitions(url, broker.handle.url,
                                [[backgrounds[n].site_id, estates[n][0].site_id] for n in range(partitions)], run)
        load = _Background(broker.handle.url, backgrounds, rate, load_s)
        observer, dispatcher = _Observer(url), _Dispatcher(url)
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{run}")
        batch_ms: list[float] = []
        try:
            observer.start()
            dispatcher.start()
            observer.ready.wait(10)
            dispatcher.ready.wait(10)
            publisher.connect(endpoint.host, endpoint.port)
            publisher.loop_start()
            time.sleep(WARM_UP_S)
            published = _inject(publisher, lifts, interval_s, entrapments_only=False)
            _await_alarms(observer, published)
        finally:
            background = load.close()
            publisher.loop_stop()
            publisher.disconnect()
            batch_ms = pipelines.close()
            observer.stop.set()
            dispatcher.stop.set()
            observer.join(5)
            dispatcher.join(5)
            broker.stop()
    with connect(url, autocommit=True) as conn:
        order_of = dict(conn.execute(
            """SELECT a.fingerprint, min(w.order_id) FROM work_order_alarms w JOIN alarms a ON a.id = w.alarm_id
               GROUP BY a.fingerprint""").fetchall())
    alarm_ms = _alarm_ms(observer, published)
    order_ms = [(observer.order_opened[order_of[f]] - t) * 1000 for f, t in published.items()
                if f in order_of and order_of[f] in observer.order_opened]
    return {
        "alarm_p50_ms": percentile(alarm_ms, 0.5) if alarm_ms else None,
        "alarm_p99_ms": percentile(alarm_ms, 0.99) if alarm_ms else None,
        "work_order_p50_ms": percentile(order_ms, 0.5) if order_ms else None,
        "work_order_p99_ms": percentile(order_ms, 0.99) if order_ms else None,
        "samples": len(alarm_ms),
        "engine_batch_p50_ms": percentile(batch_ms, 0.5) if batch_ms else None,
        "engine_batch_p99_ms": percentile(batch_ms, 0.99) if batch_ms else None,
        "engine_batches": len(batch_ms),
        "work_order_samples": len(order_ms),
        "injected": len(published),
        "background_target_msgs_per_s": rate,
        # What the load processes achieved, side by side: each one's messages over its own sending time.
        "background_msgs_per_s": sum(sent / elapsed for sent, _, elapsed in background),
        "background_sent": sum(sent for sent, _, _ in background),
        "background_acked": sum(acked for _, acked, _ in background),
        "background_lifts": background_lifts,
        "partitions": partitions,
        "gateway_flush_interval_s": FLUSH_INTERVAL_S,
        "broker": broker.handle.kind,
    }


def _stored(url: str) -> int:
    with connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM readings").fetchone()[0]


class _LagSampler(threading.Thread):
    """Every second, how far behind the newest stored reading of each probe lift is (its device time is its
    send time), while the background load runs."""

    def __init__(self, url: str, probes: list[str]) -> None:
        super().__init__(name="bench-lag", daemon=True)
        self.url = url
        self.probes = probes
        self.lag_s: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(1.0):
                for probe in self.probes:
                    newest = conn.execute("SELECT max(ts) FROM readings WHERE device_id = %s", (probe,)).fetchone()[0]
                    if newest is not None:
                        self.lag_s.append((datetime.now(UTC) - newest).total_seconds())


def overload(url: str, *, buildings: int, background_lifts: int, partitions: int, interval_s: float,
             calibrate_rate: float, calibrate_s: float, factor: float) -> dict[str, object]:
    """Life-safety events while telemetry backs up: the pipeline's sustainable telemetry rate measured first
    (``calibrate_rate`` offered for ``calibrate_s``, stored readings counted after a warm-up), then ``factor``
    times that offered while an entrapment per lift is injected. P0 event -> active alarm latency, and the
    telemetry lag (now minus the device time of probe lifts' newest stored reading) sampled every second."""
    estates, lifts = _estates_and_lifts(url, buildings, partitions)
    run = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="pw-bench-mqtt-") as tmp:
        broker = EmbeddedBroker(Path(tmp))
        endpoint = MqttEndpoint.parse(broker.handle.url)
        backgrounds = [register_background(url, f"BGLOAD{n}", background_lifts // partitions)
                       for n in range(partitions)]
        probes = [next(d.id for d in layout.devices if d.type == "elevator") for layout in backgrounds]
        pipelines = _Partitions(url, broker.handle.url,
                                [[backgrounds[n].site_id, estates[n][0].site_id] for n in range(partitions)], run)
        observer = _Observer(url)
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{run}")
        sampler = _LagSampler(url, probes)
        try:
            # 1. What the pipeline sustains: stored readings per second from a backlog, after a warm-up.
            before = _stored(url)
            calibration = _Background(broker.handle.url, backgrounds, calibrate_rate, calibrate_s)
            time.sleep(WARM_UP_S)
            first, started = _stored(url), time.monotonic()
            time.sleep(max(calibrate_s - WARM_UP_S, 1.0))
            sustained = (_stored(url) - first) / (time.monotonic() - started)
            accepted = sum(acked for _, acked, _ in calibration.close())
            # The whole calibration backlog is stored before the measured run starts.
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while _stored(url) < before + accepted and time.monotonic() < deadline:
                time.sleep(1.0)
            # 2. factor x that rate, with an entrapment per lift once the backlog has built up.
            offered = factor * sustained
            load_s = WARM_UP_S + len(lifts) * interval_s + SETTLE_S
            observer.start()
            observer.ready.wait(10)
            publisher.connect(endpoint.host, endpoint.port)
            publisher.loop_start()
            load = _Background(broker.handle.url, backgrounds, offered, load_s)
            sampler.start()
            time.sleep(WARM_UP_S)
            published = _inject(publisher, lifts, interval_s, entrapments_only=True)
            _await_alarms(observer, published)
            background = load.close()
        finally:
            sampler.stop.set()
            publisher.loop_stop()
            publisher.disconnect()
            batch_ms = pipelines.close()
            observer.stop.set()
            observer.join(5)
            broker.stop()
    alarm_ms = _alarm_ms(observer, published)
    stages = _stages(url, observer, published)
    return {
        "sustained_msgs_per_s": sustained,
        "calibration_offered_msgs_per_s": calibrate_rate,
        "offered_msgs_per_s": offered,
        "background_msgs_per_s": sum(sent / elapsed for sent, _, elapsed in background),
        "background_sent": sum(sent for sent, _, _ in background),
        "p0_alarm_p50_ms": percentile(alarm_ms, 0.5) if alarm_ms else None,
        "p0_alarm_p99_ms": percentile(alarm_ms, 0.99) if alarm_ms else None,
        "p0_alarm_max_ms": max(alarm_ms) if alarm_ms else None,
        "p0_samples": len(alarm_ms),
        "p0_injected": len(published),
        "telemetry_lag_p50_s": percentile(sampler.lag_s, 0.5) if sampler.lag_s else None,
        "telemetry_lag_max_s": max(sampler.lag_s) if sampler.lag_s else None,
        "engine_batch_p50_ms": percentile(batch_ms, 0.5) if batch_ms else None,
        "engine_batch_p99_ms": percentile(batch_ms, 0.99) if batch_ms else None,
        **{f"p0_{stage}_{name}_ms": percentile(values, q) if values else None
           for stage, values in stages.items() for name, q in (("p50", 0.5), ("p99", 0.99))},
        "p0_slowest": _slowest(stages),
        "partitions": partitions,
        "broker": broker.handle.kind,
    }


if __name__ == "__main__":
    sys.exit(main())
