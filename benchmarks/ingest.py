"""End-to-end ingest benchmark: publisher -> Mosquitto -> gateway -> PostgreSQL, against two baselines.

    python -m benchmarks.ingest --duration 60 --json OUT.json [--workers 2] [--rate 20000]

One run, one broker (Mosquitto with the project configuration, started here), one database (embedded
PostgreSQL, or ``PROPWATCH_DATABASE_URL``; a fresh database is created on that server and dropped after):

1. **gateway**: N gateway processes (shared subscription when N > 1) while a paced publisher sends telemetry
   of 10 metrics per message at QoS 1 for ``--duration`` seconds. Loss and duplicates are counted in the
   database against the exact set of messages the broker acknowledged to the publisher.
2. **ceiling**: a bare paho subscriber that only counts QoS 1 messages, same publisher, ``--baseline-duration``.
3. **naive**: a subscriber that inserts each message's readings with single INSERTs, one commit per message.

Processes are started with ``spawn`` so each side has its own interpreter (and GIL).
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psutil
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from gateway.endpoint import MqttEndpoint
from gateway.protocol import topic_for
from ingest.database import connect
from ingest.records import Batch
from ingest.registry import Device, Site, upsert_device, upsert_site
from propwatch.embedded import EmbeddedBroker, EmbeddedPostgres
from propwatch.schema import upgrade_database

SITE = "BENCH"
METRICS = {
    "car_position": 3.0, "car_status": 1.0, "car_direction": 1.0, "door_zone": 1.0, "door_status": 1.0,
    "passenger_status": 2.0, "service_mode": 0.0, "speed": 1.5, "load": 320.0, "motor_current": 42.0,
}
LAG_METRIC = "speed"
MAX_OUTSTANDING = 2000  # publisher's unacknowledged QoS 1 window


@dataclass
class PublishResult:
    sent: int
    seconds: float
    sent_file: str


# -- publisher ---------------------------------------------------------------------------------------------


def device_ids(count: int) -> list[str]:
    return [f"{SITE}-EL{i:05d}" for i in range(count)]


def publish(url: str, devices: int, duration: float, rate: float, sent_file: str, result_queue: mp.Queue) -> None:
    """Publish telemetry round-robin over ``devices`` for ``duration`` s at ``rate`` msg/s (0 = flat out).

    Writes the (device index, ts ms) of every message the broker acknowledged to ``sent_file``.
    """
    endpoint = MqttEndpoint.parse(url)
    ids = device_ids(devices)
    topics = [topic_for(SITE, d, "telemetry") for d in ids]
    last_ts = [0] * devices
    # (info, device index, ts) in publish order; swept from the left as PUBACKs arrive. No callback and no
    # lock: paho runs on_publish under its own message mutex, which publish() also takes.
    pending: deque[tuple[mqtt.MQTTMessageInfo, int, int]] = deque()
    acked_dev, acked_ts = array.array("q"), array.array("q")

    def sweep() -> None:
        while pending and pending[0][0].is_published():
            _, dev, ts = pending.popleft()
            acked_dev.append(dev)
            acked_ts.append(ts)

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id=f"bench-pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311, clean_session=True)
    client.max_inflight_messages_set(MAX_OUTSTANDING)
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    values = dict(METRICS)
    start = time.monotonic()
    n = 0
    seq = [0] * devices
    while (now := time.monotonic()) - start < duration:
        if rate and n > (now - start) * rate:
            time.sleep(0.001)
            continue
        if n % 256 == 0:
            sweep()
        if len(pending) > MAX_OUTSTANDING * 2:
            time.sleep(0.0005)
            sweep()
            continue
        dev = n % devices
        ts = max(int(time.time() * 1000), last_ts[dev] + 1)
        last_ts[dev] = ts
        seq[dev] += 1
        values["load"] = float(n % 1000)
        payload = orjson.dumps({"ts": ts, "seq": seq[dev], "metrics": values})
        pending.append((client.publish(topics[dev], payload, qos=1), dev, ts))
        n += 1
    seconds = time.monotonic() - start
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        sweep()
        if pending and not pending[0][0].is_published():
            time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    with open(sent_file, "wb") as f:
        acked_dev.tofile(f)
        acked_ts.tofile(f)
    result_queue.put(PublishResult(len(acked_dev), seconds, sent_file))


# -- gateway worker ----------------------------------------------------------------------------------------


def gateway_worker(url: str, db_url: str, index: int, group: str | None, ready: mp.Event, stop: mp.Event,
                   out: mp.Queue) -> None:
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
        lags.extend((now - r.ts).total_seconds() * 1000 for r in batch.readings if r.metric == LAG_METRIC)

    gateway = Gateway(endpoint=MqttEndpoint.parse(url), database_url=db_url, client_id=f"bench-gw-{index}",
                      shared_group=group, on_committed=on_committed, session_expiry_s=600)
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


def baseline_subscriber(url: str, db_url: str | None, ready: mp.Event, stop: mp.Event, out: mp.Queue) -> None:
    """Count QoS 1 messages (``db_url`` None) or insert each message's readings one INSERT at a time."""
    endpoint = MqttEndpoint.parse(url)
    count = [0]
    times: list[float] = []
    cpu_at_first: list[float] = []
    conn = connect(db_url) if db_url else None

    def on_message(client, userdata, message) -> None:
        if conn is not None:
            body = orjson.loads(message.payload)
            device = message.topic.split("/")[3]
            ts = datetime.fromtimestamp(body["ts"] / 1000, tz=UTC)
            for metric, value in body["metrics"].items():
                conn.execute(
                    "INSERT INTO readings (device_id, metric, ts, value) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (device, metric, ts, value),
                )
            conn.commit()
        if not times:
            times.append(time.monotonic())
            cpu_at_first.append(sum(os.times()[:2]))
        count[0] += 1

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id=f"bench-base-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311, clean_session=True)
    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p: (c.subscribe("pw/v1/+/+/+", qos=1), ready.set())
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    stop.wait()
    end = time.monotonic()
    got = count[0]
    cpu = sum(os.times()[:2]) - cpu_at_first[0] if cpu_at_first else 0.0
    client.disconnect()
    client.loop_stop()
    out.put({"messages": got, "seconds": (end - times[0]) if times else 0.0, "cpu_s": cpu})


# -- orchestration -----------------------------------------------------------------------------------------


def prepare_database(admin_url: str) -> tuple[str, str]:
    """Create a fresh benchmark database with the schema and the devices; return (name, url)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"pw_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": name})
    upgrade_database(url)
    return name, url


def register_devices(db_url: str, count: int) -> None:
    with connect(db_url) as conn:
        upsert_site(conn, Site(SITE, "Benchmark estate"))
        for device_id in device_ids(count):
            upsert_device(conn, Device(device_id, SITE, "elevator", device_id))
        conn.commit()


def count_against_sent(db_url: str, sent_file: str, sent: int) -> tuple[int, int, int]:
    """(stored messages from the sent set, lost, duplicates) — from the database, exactly."""
    dev, ts = array.array("q"), array.array("q")
    with open(sent_file, "rb") as f:
        dev.fromfile(f, sent)
        ts.fromfile(f, sent)
    ids = device_ids(max(dev) + 1 if dev else 1)
    with connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE sent (device_id text, ts timestamptz)")
        with conn.cursor().copy("COPY sent (device_id, ts) FROM STDIN") as copy:
            for d, t in zip(dev, ts, strict=True):
                copy.write_row((ids[d], datetime.fromtimestamp(t / 1000, tz=UTC)))
        stored = conn.execute(
            """SELECT count(*) FROM sent s WHERE (SELECT count(*) FROM readings r
                   WHERE r.device_id = s.device_id AND r.ts = s.ts) = %s""",
            (len(METRICS),),
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    return stored, sent - stored, rows - stored * len(METRICS)


def stored_rows(db_url: str) -> int:
    with connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM readings").fetchone()[0]


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


def run_publisher(ctx, url: str, devices: int, duration: float, rate: float, workdir: Path) -> PublishResult:
    out = ctx.Queue()
    sent_file = str(workdir / f"sent-{uuid.uuid4().hex[:6]}.bin")
    proc = ctx.Process(target=publish, args=(url, devices, duration, rate, sent_file, out))
    proc.start()
    result = out.get(timeout=duration + 120)
    proc.join(30)
    return result


def run_gateway_phase(ctx, url: str, db_url: str, args, workdir: Path, pg_dir: Path | None) -> dict:
    ready_events = [ctx.Event() for _ in range(args.workers)]
    stop = ctx.Event()
    out = ctx.Queue()
    group = "bench" if args.workers > 1 else None
    procs = [ctx.Process(target=gateway_worker, args=(url, db_url, i, group, ready_events[i], stop, out))
             for i in range(args.workers)]
    for proc in procs:
        proc.start()
    for event in ready_events:
        event.wait(60)
    rss_peak = [0.0]
    sampling = threading.Event()

    def sample_rss() -> None:
        while not sampling.is_set():
            total = 0.0
            for proc in procs:
                with contextlib.suppress(psutil.Error):  # a worker may just have exited
                    total += psutil.Process(proc.pid).memory_info().rss / 2**20
            rss_peak[0] = max(rss_peak[0], total)
            sampling.wait(0.2)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    pg_cpu_before = postgres_cpu_s(pg_dir)
    published = run_publisher(ctx, url, args.devices, args.duration, args.rate, workdir)
    expected = published.sent * len(METRICS)
    deadline = time.monotonic() + args.drain_timeout
    while stored_rows(db_url) < expected and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(0.5)  # let the last acknowledgements go out before the workers stop
    pg_cpu = postgres_cpu_s(pg_dir)
    stop.set()
    reports = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    sampling.set()
    stored, lost, duplicates = count_against_sent(db_url, published.sent_file, published.sent)
    first = min(r["first_commit"] for r in reports if r["first_commit"])
    last = max(r["last_commit"] for r in reports)
    lags = sorted(x for r in reports for x in r["lags"])
    seconds = max(last - first, 1e-9)
    return {
        "sent": published.sent,
        "publish_seconds": published.seconds,
        "offered_messages_per_s": published.sent / published.seconds,
        "stored": stored,
        "lost": lost,
        "duplicates": duplicates,
        "messages_per_s": stored / seconds,
        "readings_per_s": stored * len(METRICS) / seconds,
        "lag_p50_ms": statistics.quantiles(lags, n=100)[49] if len(lags) > 1 else None,
        "lag_p99_ms": statistics.quantiles(lags, n=100)[98] if len(lags) > 1 else None,
        "peak_rss_mb": rss_peak[0],
        # CPU cost per message, independent of how busy the machine was: capacity per core = 1e6 / cost.
        "gateway_cpu_us_per_message": sum(r["cpu_s"] for r in reports) / max(stored, 1) * 1e6,
        "postgres_cpu_us_per_message": (pg_cpu - pg_cpu_before) / max(stored, 1) * 1e6 if pg_dir else None,
        "per_worker": [{k: v for k, v in r.items() if k != "lags"} for r in reports],
    }


def run_baseline(ctx, url: str, db_url: str | None, args, workdir: Path) -> dict:
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=baseline_subscriber, args=(url, db_url, ready, stop, out))
    proc.start()
    ready.wait(30)
    time.sleep(0.3)
    publisher_out = ctx.Queue()
    sent_file = str(workdir / f"sent-{uuid.uuid4().hex[:6]}.bin")
    pub = ctx.Process(target=publish, args=(url, args.devices, args.baseline_duration, 0, sent_file, publisher_out))
    pub.start()
    published = publisher_out.get(timeout=args.baseline_duration + 120)
    pub.join(30)
    stop.set()
    result = out.get(timeout=60)
    proc.join(30)
    return {"messages_per_s": result["messages"] / max(result["seconds"], 1e-9), "messages": result["messages"],
            "cpu_us_per_message": result["cpu_s"] / max(result["messages"], 1) * 1e6,
            "publisher_messages_per_s": published.sent / published.seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="gateway phase publishing time, s")
    parser.add_argument("--baseline-duration", type=float, default=None,
                        help="each baseline, s (default: min(duration, 15))")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0, help="offered msg/s in the gateway phase (0 = flat out)")
    parser.add_argument("--workers", type=int, default=1, help="gateway processes (shared subscription if > 1)")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    args.baseline_duration = args.baseline_duration or min(args.duration, 15.0)
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        workdir = Path(tmp)
        broker = EmbeddedBroker(workdir / "mqtt")
        server = None
        admin_url = os.environ.get("PROPWATCH_DATABASE_URL")
        if not admin_url:
            server = EmbeddedPostgres(workdir / "pg")
            admin_url = server.url()
        try:
            name, db_url = prepare_database(admin_url)
            register_devices(db_url, args.devices)
            with connect(db_url) as conn:
                timescaledb = conn.execute("SELECT mode FROM storage_mode").fetchone()[0] == "timescaledb"
            url = broker.handle.url
            print(f"gateway phase: {args.workers} worker(s), {args.duration:.0f} s ...", file=sys.stderr)
            figures = run_gateway_phase(ctx, url, db_url, args, workdir, server.data_dir if server else None)
            print("ceiling baseline (bare paho subscriber) ...", file=sys.stderr)
            ceiling = run_baseline(ctx, url, None, args, workdir)
            print("naive baseline (single INSERTs) ...", file=sys.stderr)
            with connect(db_url, autocommit=True) as conn:
                conn.execute("TRUNCATE readings")
            naive = run_baseline(ctx, url, db_url, args, workdir)
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            broker.stop()
            if server is not None:
                server.stop()
    figures.update({
        "timescaledb": timescaledb,
        "load_average_1m": os.getloadavg()[0],
        "workers": args.workers,
        "devices": args.devices,
        "metrics_per_message": len(METRICS),
        "cpu_count": os.cpu_count(),
        "ceiling_messages_per_s": ceiling["messages_per_s"],
        "naive_messages_per_s": naive["messages_per_s"],
        "ratio_to_ceiling": figures["messages_per_s"] / ceiling["messages_per_s"],
        "ratio_to_naive": figures["messages_per_s"] / naive["messages_per_s"],
        # Load-independent: what a core spends per message in the bare subscriber vs the whole gateway.
        "ceiling_cpu_us_per_message": ceiling["cpu_us_per_message"],
        "naive_cpu_us_per_message": naive["cpu_us_per_message"],
        "baselines": {"ceiling": ceiling, "naive": naive},
    })
    report = {k: v for k, v in figures.items() if k not in ("per_worker", "baselines")}
    for key, value in report.items():
        print(f"{key:>24}: {value:,.2f}" if isinstance(value, float) else f"{key:>24}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
