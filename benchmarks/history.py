"""History and storage benchmark: size, compression and query times of a month of a hundred devices.

    python -m benchmarks.history [--devices 100] [--days 30] [--values sensor|regular] [--json OUT.json]
                                 [--chunk-days 1] [--segment-by device_id|none] [--time-index]

Writes ``--devices`` devices × ``--days`` days of one 10-metric message per minute through ``ingest.writer`` into
a fresh database (on ``PROPWATCH_DATABASE_URL``'s server, or a throwaway embedded PostgreSQL), then times what a
control-room chart asks for: a month in hourly buckets, a day in minute buckets, a week of raw points. It rolls
the days up (``ingest.rollups``) and times the month again from the rollups, as history answers it once the raw
rows are past retention (the benchmark shortens raw retention without applying it). In TimescaleDB mode it then
compresses every chunk and times the queries again.

``--values sensor`` (the default) writes what sensors report: a slow daily cycle plus noise, rounded to the
sensor's resolution, with a few metrics that stay put (door state, alarms); ``regular`` writes the old
``minute % 60 + k`` ramps, which compress far better than any real series. ``--chunk-days``, ``--segment-by``
and ``--time-index`` (TimescaleDB only) set the chunk interval, the compression segmenting and the (ts) index the
migrations dropped, to compare choices.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks.ingest import drop_database, prepare_database
from ingest import rollups
from ingest.database import connect
from ingest.history import raw_points, rollup
from ingest.records import Batch, Sample
from ingest.writer import Writer
from propwatch.embedded import EmbeddedPostgres

START = datetime(2026, 1, 1, tzinfo=UTC)
METRICS = [f"m{k}" for k in range(10)]


def sensor_values(device: int, minute: int, rng: random.Random) -> dict[str, float]:
    """Ten metrics of one message: seven analogue readings (daily cycle + noise, 0.01 resolution), a counter,
    and two states that rarely change."""
    cycle = math.sin(2 * math.pi * (minute % 1440) / 1440)
    values = {f"m{k}": round(10 * (k + 1) + 3 * (k + 1) * cycle + rng.gauss(0, 0.2 * (k + 1)), 2) for k in range(7)}
    values["m7"] = float(device * 100_000 + minute // 3)  # a trip counter
    values["m8"] = float(minute % 1440 < 60)  # a door held open an hour a day
    values["m9"] = 0.0  # an alarm state that stays clear
    return values


def regular_values(minute: int) -> dict[str, float]:
    return {name: float(minute % 60 + k) for k, name in enumerate(METRICS)}


def configure(conn: psycopg.Connection, args: argparse.Namespace) -> None:
    """Apply the TimescaleDB knobs before any row is written, and hold the server's jobs: the data is months old,
    and a compression run in the middle would skew the uncompressed figures."""
    conn.execute("SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
                 "WHERE hypertable_name IN ('readings', 'readings_hourly')")
    conn.execute("SELECT set_chunk_time_interval('readings', %s::interval)", (timedelta(days=args.chunk_days),))
    segment = "device_id" if args.segment_by == "device_id" else ""
    order = "ts DESC" if segment else "device_id, ts DESC"
    conn.execute(f"ALTER TABLE readings SET (timescaledb.compress_segmentby = '{segment}', "
                 f"timescaledb.compress_orderby = '{order}')")
    if args.time_index:
        conn.execute("CREATE INDEX readings_ts_idx ON readings (ts DESC)")


def fill(url: str, devices: int, days: int, values: str) -> float:
    """Write the history; returns the seconds it took."""
    rng = random.Random(20260101)
    started = time.perf_counter()
    with connect(url) as conn:
        writer = Writer(conn)
        for day in range(days):
            writer.write(Batch([
                Sample(f"D{d:03d}", START + timedelta(days=day, minutes=m),
                       sensor_values(d, day * 1440 + m, rng) if values == "sensor" else regular_values(m))
                for m in range(1440) for d in range(devices)
            ]))
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings")
    return time.perf_counter() - started


def timed(query: Callable[[], list]) -> tuple[int, float]:
    """Rows returned and milliseconds, of the second run (the first warms the cache)."""
    query()
    started = time.perf_counter()
    rows = query()
    return len(rows), (time.perf_counter() - started) * 1000


def size_of(conn: psycopg.Connection, mode: str, relation: str) -> int:
    """Bytes on disk of a table with its indexes and, for a hypertable, all its chunks (compressed or not)."""
    if mode == "timescaledb":
        return conn.execute("SELECT hypertable_size(%s::regclass)", (relation,)).fetchone()[0]
    return conn.execute("SELECT pg_total_relation_size(%s::regclass)", (relation,)).fetchone()[0]


def queries(conn: psycopg.Connection, device: str, days: int, prefix: str) -> dict[str, float | int]:
    month = timed(lambda: rollup(conn, device, "m3", START, START + timedelta(days=days), bucket=timedelta(hours=1)))
    day = timed(lambda: rollup(conn, device, "m3", START, START + timedelta(days=1), bucket=timedelta(minutes=1)))
    week = timed(lambda: raw_points(conn, device, "m3", START, START + timedelta(days=min(days, 7)), limit=100_000))
    return {f"{prefix}month_hourly_ms": month[1], f"{prefix}day_minute_ms": day[1], f"{prefix}week_raw_ms": week[1],
            "month_hourly_buckets": month[0], "day_minute_buckets": day[0], "week_raw_points": week[0]}


def shorten_raw_retention(conn: psycopg.Connection, mode: str) -> None:
    """Declare raw rows older than 8 days past retention without dropping them, so history reads the rollups."""
    if mode == "timescaledb":  # the job stays held (``configure``), so the new threshold is never applied
        conn.execute("""SELECT alter_job(job_id, config => jsonb_set(config, '{drop_after}', '"8 days"'))
                        FROM timescaledb_information.jobs
                        WHERE proc_name = 'policy_retention' AND hypertable_name = 'readings'""")
    else:
        conn.execute("UPDATE retention_policies SET drop_after = interval '8 days' WHERE relation = 'readings'")


def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    """Fill, time the queries on the middle device, roll up and time again, then compress (TimescaleDB)."""
    with connect(url, autocommit=True) as conn:
        mode = conn.execute("SELECT mode FROM storage_mode").fetchone()[0]
        if mode == "timescaledb":
            configure(conn, args)
    seconds = fill(url, args.devices, args.days, args.values)
    device = f"D{args.devices // 2:03d}"
    with connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        size = size_of(conn, mode, "readings")
        figures: dict[str, object] = {
            "mode": mode, "values": args.values, "rows": rows, "readings": rows * len(METRICS),
            "table_mb": size / 2**20, "bytes_per_row": size / rows, "fill_rows_per_s": rows / seconds,
            **queries(conn, device, args.days, ""),
        }
        started = time.perf_counter()
        rollups.refresh(conn, now=START + timedelta(days=args.days) + rollups.SETTLE)
        figures["rollup_s"] = time.perf_counter() - started
        figures["rollup_rows"] = conn.execute("SELECT count(*) FROM readings_hourly").fetchone()[0]
        figures["rollup_mb"] = size_of(conn, mode, "readings_hourly") / 2**20
        shorten_raw_retention(conn, mode)
        figures["rolled_month_hourly_ms"] = timed(lambda: rollup(
            conn, device, "m3", START, START + timedelta(days=args.days), bucket=timedelta(hours=1)))[1]
        if mode == "timescaledb":
            started = time.perf_counter()
            conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('readings') c")
            figures["compress_s"] = time.perf_counter() - started
            compressed = size_of(conn, mode, "readings")
            figures["compressed_mb"] = compressed / 2**20
            figures["compression_ratio"] = size / compressed
            figures.update(queries(conn, device, args.days, "compressed_"))
            conn.execute("SELECT count(compress_chunk(c)) FROM show_chunks('readings_hourly') c")
            figures["rollup_compressed_mb"] = size_of(conn, mode, "readings_hourly") / 2**20
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--values", choices=("sensor", "regular"), default="sensor")
    parser.add_argument("--chunk-days", type=float, default=1.0, help="TimescaleDB chunk interval (default 1 day)")
    parser.add_argument("--segment-by", choices=("device_id", "none"), default="device_id")
    parser.add_argument("--time-index", action="store_true", help="keep a (ts DESC) index as create_hypertable makes")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    configured = os.environ.get("PROPWATCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="pw-bench-history-") as tmp:
        server = None if configured else EmbeddedPostgres(Path(tmp) / "pg")
        admin_url = configured or server.url()
        try:
            name, url = prepare_database(admin_url)
            try:
                figures = run(url, args)
            finally:
                drop_database(admin_url, name)
        finally:
            if server is not None:
                server.stop()
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
        print(f"{key:>28}: {shown}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
