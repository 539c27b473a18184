"""End-to-end ingest benchmark: load mode -> Mosquitto -> gateway -> PostgreSQL, against two baselines.

    python -m benchmarks.ingest --duration 60 --json OUT.json [--workers 2] [--rate 15000] [--baseline-rate 30000]

One run, one broker (Mosquitto with the project configuration, started here), one database (embedded
PostgreSQL, or ``PROPWATCH_DATABASE_URL``; a fresh database is created on that server and dropped after).
Every phase is fed by the simulators' load mode (``simulators.load.run_load``: elevators of a generated
estate, 10 metrics per message, QoS 1; one publishing process per 15,000 msg/s offered). The gateway phase
is offered ``--rate`` msg/s (default 15,000), somewhat more than the gateway sustains here, so it measures
the gateway's own rate from a backlog that stays moderate: a backlog of millions of messages in a persistent
session makes Mosquitto stall on every autosave of its persistence file, which then measures the broker.
The naive subscriber is offered the same rate; the bare subscriber ``--baseline-rate`` (default 30,000, more
than it takes here) so that the ceiling is measured rather than capped by the load. The baselines' sessions
are not persistent, so a backlog costs the broker nothing but memory.

1. **gateway**: N gateway processes (shared subscription when N > 1), load for ``--duration`` seconds, then
   the backlog is drained. Loss and duplicates are counted in the database against the load mode's ledger
   (the exact (device, seq) set sent); the rate is stored messages over first-to-last commit.
2. **ceiling**: a bare paho subscriber that only counts QoS 1 messages, load for ``--baseline-duration``.
3. **naive**: a subscriber that inserts each message's readings with single INSERTs into a one-row-per-reading
   table (``naive_readings``), one commit per message.

A baseline runs until it has consumed everything sent or for ``--baseline-duration`` after the load ended;
its rate is messages consumed over first-to-last message, and ``backlog_at_load_end`` shows whether it was
the bottleneck (> 0) or kept up with the load (0: then the figure is the load's rate, a lower bound).
Processes are started with ``spawn`` so each side has its own interpreter (and GIL).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psutil
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from gateway.protocol.endpoint import MqttEndpoint
from ingest.database import connect
from ingest.records import Batch
from propwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from propwatch.schema import upgrade_database
from propwatch.seed import register_estate
from simulators.estate import EstateLayout, demo_estate
from simulators.load import LoadConfig, read_ledger, run_load

SITE = "BENCH"
# What a typical script stores into: one row per reading, keyed so a redelivery adds nothing.
NAIVE_TABLE = """CREATE TABLE naive_readings (device_id text, metric text, ts timestamptz, value float8,
                                            PRIMARY KEY (device_id, metric, ts))"""
METRICS_PER_MESSAGE = 10
# What one load-mode process publishes comfortably here (it reaches ~20,000 msg/s flat out).
RATE_PER_LOAD_PROCESS = 15_000


# -- load ----------------------------------------------------------------------------------------------------


def bench_estate(devices: int) -> EstateLayout:
    """An estate with at least ``devices`` elevators (14 catalogue metrics, two per building)."""
    return demo_estate(SITE, buildings=(devices + 1) // 2)


def load_config(devices: int, rate: float, duration: float) -> LoadConfig:
    """The load mode's configuration: ``devices`` devices, ``rate`` msg/s offered, 10 metrics, QoS 1; one
    publishing process per ``RATE_PER_LOAD_PROCESS`` msg/s, so the offered rate is what is asked."""
    return LoadConfig(rate=rate, duration_s=duration, devices=devices, qos=1,
                      metrics_per_message=METRICS_PER_MESSAGE,
                      processes=max(1, math.ceil(rate / RATE_PER_LOAD_PROCESS)))


def load_process(url: str, devices: int, rate: float, duration: float, ledger: str, out: mp.Queue) -> None:
    """Run the load mode (in its own process) and put its report, without the ledger, on ``out``."""
    report = run_load(bench_estate(devices), url, load_config(devices, rate, duration), ledger_path=Path(ledger))
    out.put(report.summary())


def run_publisher(ctx: Any, url: str, args: argparse.Namespace, rate: float, duration: float,
                  workdir: Path) -> dict[str, Any]:
    """Drive the load mode for ``duration`` s; return its report with the path of its ``ledger``."""
    out = ctx.Queue()
    ledger = str(workdir / f"ledger-{uuid.uuid4().hex[:6]}.json")
    proc = ctx.Process(target=load_process, args=(url, args.devices, rate, duration, ledger, out))
    proc.start()
    report = out.get(timeout=duration + 120)
    proc.join(30)
    return {**report, "ledger": ledger}


# -- gateway worker ----------------------------------------------------------------------------------------


def gateway_worker(url: str, db_url: str, index: int, group: str | None, protocol: str, ready: mp.Event,
                   stop: mp.Event, out: mp.Queue) -> None:
    """Run one Gateway until ``stop``; report counters, commit times and lag samples."""
    from gateway.service import Gateway

    lags: list[float] = []
    first_commit: list[float] = []
    last_commit = [0.0]

    def on_committed(batch: Batch) -> None:
        now = datetime.now(UTC)
        wall = time.time()
        if not first_commit:
            first_commit.append(wall)
        last_commit[0] = wall
        lags.extend((now - sample.ts).total_seconds() * 1000 for sample in batch.samples)

    gateway = Gateway(endpoint=MqttEndpoint.parse(url), database_url=db_url, client_id=f"bench-gw-{index}",
                      shared_group=group, on_committed=on_committed, session_expiry_s=600, protocol=protocol)
    gateway.start()
    gateway.wait_connected(30)
    cpu_at_ready = sum(os.times()[:2])  # start-up (imports, connect) is not per-message work
    ready.set()
    stop.wait()
    gateway.stop()
    stats = gateway.stats()
    out.put({
        "index": index,
        "stats": asdict(stats),
        "first_commit": first_commit[0] if first_commit else None,
        "last_commit": last_commit[0],
        "lags": lags,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": sum(os.times()[:2]) - cpu_at_ready,
    })


# -- baselines ---------------------------------------------------------------------------------------------


def baseline_subscriber(url: str, db_url: str | None, consumed: Any, ready: mp.Event, stop: mp.Event,
                        out: mp.Queue) -> None:
    """Count QoS 1 messages (``db_url`` None) or insert each message's readings one INSERT at a time.

    Publishes its running count in ``consumed`` (every 100 messages) and reports count, first/last message
    times and CPU seconds from the first message when ``stop`` is set.
    """
    endpoint = MqttEndpoint.parse(url)
    count = [0]
    first: list[float] = []
    last = [0.0]
    cpu_at_first: list[float] = []
    conn = connect(db_url) if db_url else None

    def on_message(client, userdata, message) -> None:
        if not first:
            first.append(time.monotonic())
            cpu_at_first.append(sum(os.times()[:2]))
        if conn is not None:
            body = orjson.loads(message.payload)
            device = message.topic.split("/")[3]
            ts = datetime.fromtimestamp(body["ts"] / 1000, tz=UTC)
            for metric, value in body["metrics"].items():
                conn.execute(
                    "INSERT INTO naive_readings (device_id, metric, ts, value) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (device, metric, ts, value),
                )
            conn.commit()
        count[0] += 1
        last[0] = time.monotonic()
        if count[0] % 100 == 0:
            consumed.value = count[0]

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id=f"bench-base-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311, clean_session=True)
    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("pw/v1/+/+/+", qos=1)
    client.on_subscribe = lambda c, u, mid, rc, p: ready.set()
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()
    cpu = sum(os.times()[:2]) - cpu_at_first[0] if cpu_at_first else 0.0
    out.put({"messages": count[0], "seconds": last[0] - first[0] if first else 0.0, "cpu_s": cpu})


def run_baseline(ctx: Any, url: str, db_url: str | None, rate: float, args: argparse.Namespace,
                 workdir: Path) -> dict:
    """One baseline subscriber offered ``rate`` msg/s; its sustained rate is messages / first-to-last message."""
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    consumed = ctx.RawValue("q", 0)
    proc = ctx.Process(target=baseline_subscriber, args=(url, db_url, consumed, ready, stop, out))
    proc.start()
    ready.wait(30)
    load = run_publisher(ctx, url, args, rate, args.baseline_duration, workdir)
    backlog_at_load_end = load["acked"] - consumed.value
    deadline = time.monotonic() + args.baseline_duration
    while consumed.value < load["acked"] - 100 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the last (< 100) messages, uncounted in ``consumed``
    stop.set()
    result = out.get(timeout=60)
    proc.join(30)
    return {"messages_per_s": result["messages"] / max(result["seconds"], 1e-9), "messages": result["messages"],
            "seconds": result["seconds"], "cpu_us_per_message": result["cpu_s"] / max(result["messages"], 1) * 1e6,
            "sent": load["sent"], "offered_messages_per_s": load["achieved_rate"],
            "backlog_at_load_end": max(backlog_at_load_end, 0)}


# -- orchestration -----------------------------------------------------------------------------------------


def prepare_database(admin_url: str) -> tuple[str, str]:
    """Create a fresh benchmark database with the schema; return (name, url)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"pw_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": name})
    upgrade_database(url)
    with connect(url) as conn:
        conn.execute(NAIVE_TABLE)
    return name, url


def drop_database(admin_url: str, name: str) -> None:
    """Drop a benchmark database made by ``prepare_database``."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def register_bench_estate(db_url: str, devices: int) -> None:
    """Register the benchmark estate, whose devices the load mode drives (the gateway rejects unknown ones)."""
    with connect(db_url) as conn:
        register_estate(conn, bench_estate(devices))
        conn.commit()


def count_against_ledger(db_url: str, ledger: str) -> dict[str, int]:
    """Stored, lost and duplicate messages of the ledger's (device, seq) set, from the database, exactly.

    ``readings`` has no seq column, so per device: a sent message is stored when a row (one per device and
    ``ts``; the load mode gives every message of a device its own millisecond) holds all its 10 values, and
    ``seq_stats``, committed in the same transactions, must show exactly the sent seqs: same last seq, no gap,
    and as many messages as sent once replays (redeliveries, absorbed by the idempotent writes) are taken
    off; devices where it does not are counted in ``seq_mismatched_devices`` (exact with one worker; with
    shared subscriptions late commits over-count gaps, see gateway.sequence). ``duplicates`` counts rows
    beyond one per stored message, and values beyond 10 per row.
    """
    sent: Counter[str] = Counter()
    last_sent: dict[str, int] = {}
    for device, seq in read_ledger(Path(ledger)):
        sent[device] += 1
        last_sent[device] = max(seq, last_sent.get(device, -1))
    with connect(db_url) as conn:
        groups = conn.execute(
            """SELECT device_id, count(*) FILTER (WHERE n = %(m)s), count(*), sum(greatest(n - %(m)s, 0))
               FROM (SELECT device_id, num_nonnulls(VARIADIC vals) AS n FROM readings) r
               GROUP BY device_id""",
            {"m": METRICS_PER_MESSAGE},
        ).fetchall()
        seqs = {row[0]: row[1:] for row in conn.execute(
            "SELECT device_id, last_seq, messages, gaps, missing, replays FROM seq_stats").fetchall()}
    complete = {device: int(n) for device, n, _, _ in groups}
    rows = sum(int(r) for _, _, r, _ in groups)
    extra_values = sum(int(x) for _, _, _, x in groups)
    stored = sum(min(complete.get(device, 0), n) for device, n in sent.items())
    mismatched = sum(device not in seqs or (seqs[device][0], seqs[device][1] - seqs[device][4], *seqs[device][2:4])
                     != (last_sent[device], n, 0, 0) for device, n in sent.items())
    return {"sent": sum(sent.values()), "stored": stored, "lost": sum(sent.values()) - stored,
            "duplicates": rows - stored + extra_values, "seq_mismatched_devices": mismatched,
            "seq_replays": sum(int(v[4]) for v in seqs.values())}


def committed_messages(db_url: str) -> int:
    """Distinct telemetry messages committed so far, from ``seq_stats`` (one row per device: cheap to poll,
    unlike counting ``readings``, whose scan would compete with the gateway and bill PostgreSQL's CPU)."""
    with connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(sum(messages - replays), 0) FROM seq_stats").fetchone()[0]


def postgres_cpu_s(data_dir: Path | None) -> float | None:
    """CPU seconds used so far by an embedded server's postmaster and live backends (None if not embedded)."""
    if data_dir is None:
        return None
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    postmaster = psutil.Process(pid)
    for proc in [postmaster, *postmaster.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def discard_sessions(url: str, client_ids: list[str]) -> None:
    """End the gateway workers' persistent sessions so the broker stops queueing for them in the baselines."""
    endpoint = MqttEndpoint.parse(url)
    for client_id in client_ids:
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        client.connect(endpoint.host, endpoint.port, clean_start=True)  # session expiry 0: gone on disconnect
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()


class RssSampler:
    """Samples the summed RSS of some processes every 0.2 s in a thread; ``peak_mb`` is the maximum seen."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            total = 0.0
            for pid in self.pids:
                with contextlib.suppress(psutil.Error):  # a worker may just have exited
                    total += psutil.Process(pid).memory_info().rss / 2**20
            self.peak_mb = max(self.peak_mb, total)
            self._done.wait(0.2)

    def stop(self) -> None:
        """Stop sampling."""
        self._done.set()
        self._thread.join()


def wait_committed(db_url: str, expected: int, timeout: float) -> None:
    """Poll until ``expected`` messages are committed or ``timeout`` s passed."""
    deadline = time.monotonic() + timeout
    while committed_messages(db_url) < expected and time.monotonic() < deadline:
        time.sleep(0.5)


def quantile(values: list[float], q: int) -> float | None:
    """The ``q``-th percentile of ``values`` (None with fewer than two)."""
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else None


def run_gateway_phase(ctx: Any, url: str, db_url: str, args: argparse.Namespace, workdir: Path,
                      pg_dir: Path | None) -> dict:
    """Gateway workers under the load for ``--duration`` s, drained; figures from the database and workers."""
    ready_events = [ctx.Event() for _ in range(args.workers)]
    stop = ctx.Event()
    out = ctx.Queue()
    group = "bench" if args.workers > 1 else None
    procs = [ctx.Process(target=gateway_worker, args=(url, db_url, i, group, args.protocol, ready_events[i], stop, out))
             for i in range(args.workers)]
    for proc in procs:
        proc.start()
    for event in ready_events:
        event.wait(60)
    sampler = RssSampler([proc.pid for proc in procs])
    pg_cpu_before = postgres_cpu_s(pg_dir)
    load = run_publisher(ctx, url, args, args.rate, args.duration, workdir)
    wait_committed(db_url, load["acked"], args.drain_timeout)
    time.sleep(0.5)  # let the last acknowledgements go out before the workers stop
    pg_cpu = postgres_cpu_s(pg_dir)
    stop.set()
    reports = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    sampler.stop()
    discard_sessions(url, [f"bench-gw-{i}" for i in range(args.workers)])
    counts = count_against_ledger(db_url, load["ledger"])
    first = min(r["first_commit"] for r in reports if r["first_commit"])
    last = max(r["last_commit"] for r in reports)
    lags = sorted(x for r in reports for x in r["lags"])
    seconds = max(last - first, 1e-9)
    stored = counts["stored"]
    return {
        **counts,
        "acked_by_broker": load["acked"],
        "load_seconds": load["elapsed_s"],
        "offered_messages_per_s": load["achieved_rate"],
        "commit_seconds": seconds,
        "messages_per_s": stored / seconds,
        "readings_per_s": stored * METRICS_PER_MESSAGE / seconds,
        "lag_p50_ms": quantile(lags, 50),
        "lag_p99_ms": quantile(lags, 99),
        "peak_rss_mb": sampler.peak_mb,
        # CPU cost per message, independent of how busy the machine was: capacity per core = 1e6 / cost.
        "gateway_cpu_us_per_message": sum(r["cpu_s"] for r in reports) / max(stored, 1) * 1e6,
        "postgres_cpu_us_per_message": (pg_cpu - pg_cpu_before) / max(stored, 1) * 1e6 if pg_dir else None,
        "per_worker": [{k: v for k, v in r.items() if k != "lags"} for r in reports],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="gateway phase load time, s")
    parser.add_argument("--baseline-duration", type=float, default=None,
                        help="each baseline's load time, s (default: min(duration, 15))")
    parser.add_argument("--devices", type=int, default=1000, help="elevators the load mode drives")
    parser.add_argument("--rate", type=float, default=15_000.0,
                        help="msg/s the load mode offers the gateway and the naive subscriber")
    parser.add_argument("--baseline-rate", type=float, default=30_000.0,
                        help="msg/s the load mode offers the bare subscriber (more than it takes: its ceiling)")
    parser.add_argument("--workers", type=int, default=1, help="gateway processes (shared subscription if > 1)")
    parser.add_argument("--protocol", choices=("5", "3.1.1"), default="3.1.1",
                        help="the gateway workers' MQTT version (default: the gateway's)")
    parser.add_argument("--drain-timeout", type=float, default=600.0,
                        help="longest wait for the gateway to store the backlog after the load, s")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    args.baseline_duration = args.baseline_duration or min(args.duration, 15.0)
    # The load mode sends up to rate/100 messages with one ts per batch.
    if args.devices < max(args.rate, args.baseline_rate) / 50:
        parser.error("--devices must be at least the rates / 50 so that no device repeats a timestamp")
    return args


def run_phases(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start broker and database, run the three phases, drop the database; return the gateway figures."""
    ctx = mp.get_context("spawn")
    broker = EmbeddedBroker(workdir / "mqtt")
    server = None
    admin_url = os.environ.get("PROPWATCH_DATABASE_URL")
    if not admin_url:
        server = EmbeddedPostgres(workdir / "pg")
        admin_url = server.url()
    try:
        name, db_url = prepare_database(admin_url)
        register_bench_estate(db_url, args.devices)
        with connect(db_url) as conn:
            timescaledb = conn.execute("SELECT mode FROM storage_mode").fetchone()[0] == "timescaledb"
        url = broker.handle.url
        print(f"gateway phase: {args.workers} worker(s), {args.duration:.0f} s ...", file=sys.stderr)
        figures = run_gateway_phase(ctx, url, db_url, args, workdir, server.data_dir if server else None)
        print("ceiling baseline (bare paho subscriber) ...", file=sys.stderr)
        ceiling = run_baseline(ctx, url, None, args.baseline_rate, args, workdir)
        print("naive baseline (single INSERTs) ...", file=sys.stderr)
        with connect(db_url, autocommit=True) as conn:
            conn.execute("TRUNCATE readings")
        naive = run_baseline(ctx, url, db_url, args.rate, args, workdir)
        drop_database(admin_url, name)
    finally:
        broker.stop()
        if server is not None:
            server.stop()
    return {**figures, "timescaledb": timescaledb, "baselines": {"ceiling": ceiling, "naive": naive}}


def summarise(figures: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Add the run's context and the comparisons with the baselines to the gateway figures."""
    ceiling, naive = figures["baselines"]["ceiling"], figures["baselines"]["naive"]
    return {
        **figures,
        "load_average_1m": os.getloadavg()[0],
        "workers": args.workers,
        "devices": args.devices,
        "offered_rate": args.rate,
        "baseline_offered_rate": args.baseline_rate,
        "metrics_per_message": METRICS_PER_MESSAGE,
        "cpu_count": os.cpu_count(),
        "ceiling_messages_per_s": ceiling["messages_per_s"],
        "naive_messages_per_s": naive["messages_per_s"],
        "ratio_to_ceiling": figures["messages_per_s"] / ceiling["messages_per_s"],
        "ratio_to_naive": figures["messages_per_s"] / naive["messages_per_s"],
        # Load-independent: what a core spends per message in the bare subscriber vs the whole gateway.
        "ceiling_cpu_us_per_message": ceiling["cpu_us_per_message"],
        "naive_cpu_us_per_message": naive["cpu_us_per_message"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the figures, and write them as JSON if asked."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        figures = summarise(run_phases(args, Path(tmp)), args)
    for key, value in figures.items():
        if key not in ("per_worker", "baselines"):
            print(f"{key:>28}: {value:,.2f}" if isinstance(value, float) else f"{key:>28}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
