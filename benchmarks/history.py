"""History query benchmark: rollups and raw points of one device from a month of a hundred devices.

    python -m benchmarks.history [--devices 100] [--days 30] [--json OUT.json]

Writes ``--devices`` devices × ``--days`` days of one 10-metric message per minute through ``ingest.writer``
into a fresh database (on ``PROPWATCH_DATABASE_URL``'s server, or a throwaway embedded PostgreSQL), then times
what a control-room chart asks for: a month in hourly buckets, a day in minute buckets, a week of raw points.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.ingest import drop_database, prepare_database
from ingest.database import connect
from ingest.history import raw_points, rollup
from ingest.records import Batch, Sample
from ingest.writer import Writer
from propwatch.embedded import EmbeddedPostgres

START = datetime(2026, 1, 1, tzinfo=UTC)
METRICS = [f"m{k}" for k in range(10)]


def fill(url: str, devices: int, days: int) -> float:
    """Write the history; returns the seconds it took."""
    started = time.perf_counter()
    with connect(url) as conn:
        writer = Writer(conn)
        for day in range(days):
            writer.write(Batch([
                Sample(f"D{d:03d}", START + timedelta(days=day, minutes=m), {name: float(m % 60 + k)
                                                                              for k, name in enumerate(METRICS)})
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


def run(url: str, devices: int, days: int) -> dict[str, object]:
    """Fill, then time the three queries on the middle device."""
    seconds = fill(url, devices, days)
    device = f"D{devices // 2:03d}"
    with connect(url, autocommit=True) as conn:
        month = timed(lambda: rollup(conn, device, "m3", START, START + timedelta(days=days),
                                     bucket=timedelta(hours=1)))
        day = timed(lambda: rollup(conn, device, "m3", START, START + timedelta(days=1), bucket=timedelta(minutes=1)))
        week = timed(lambda: raw_points(conn, device, "m3", START, START + timedelta(days=min(days, 7)),
                                        limit=100_000))
        size, rows = conn.execute("SELECT pg_total_relation_size('readings'), count(*) FROM readings").fetchone()
    return {
        "rows": rows, "readings": rows * len(METRICS), "table_mb": size / 2**20, "bytes_per_row": size / rows,
        "fill_rows_per_s": rows / seconds,
        "month_hourly_buckets": month[0], "month_hourly_ms": month[1],
        "day_minute_buckets": day[0], "day_minute_ms": day[1],
        "week_raw_points": week[0], "week_raw_ms": week[1],
    }


def main(argv: list[str] | None = None) -> int:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    configured = os.environ.get("PROPWATCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="pw-bench-history-") as tmp:
        server = None if configured else EmbeddedPostgres(Path(tmp) / "pg")
        admin_url = configured or server.url()
        try:
            name, url = prepare_database(admin_url)
            try:
                figures = run(url, args.devices, args.days)
            finally:
                drop_database(admin_url, name)
        finally:
            if server is not None:
                server.stop()
    for key, value in figures.items():
        print(f"{key:>24}: {value:,.1f}" if isinstance(value, float) else f"{key:>24}: {value:,}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
