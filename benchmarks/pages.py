"""Page-speed benchmark: how long a device's 30-day chart takes to be drawn in Chromium.

    python -m benchmarks.pages [--runs 5] [--raw-every-s 1] [--json OUT.json]

Seeds one demo estate in a fresh database (on ``PROPWATCH_DATABASE_URL``'s server, or a throwaway embedded
PostgreSQL) and gives its first lift 31 days of every catalogue metric at 1 Hz, as the database holds them
with the shortest raw retention the rollups allow (``ingest.rollups.RETENTION_FLOOR``, 8 days): hourly
rollups (``readings_hourly``, 3,600 readings an hour) for the older days, written by ``generate_series``
instead of rolling up 2.7 million rows, and raw 1 Hz rows for the last 9 days (~780,000 rows; ``--raw-every-s``
thins them to compare a slower device), whose hours are then rolled up as the pipeline's maintenance pass does
(``ingest.rollups.refresh_recent``). Then it serves
the app, signs in as the operator in Debian's Chromium and opens ``/devices/{id}?range=30d`` ``--runs`` times,
the first with an empty cache (ECharts' 1 MB bundle fetched), the rest warm. Each figure is read from the page:
``performance.now()`` (milliseconds since navigation start) when ECharts reports each chart finished.

Printed: time to the first chart drawn, and to every chart in the first screen drawn, cold and warm (median
and worst of the warm runs), ECharts' share (first chart drawn after its series arrived), and the history API's
time for one 30-day series.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.ingest import drop_database, prepare_database
from dashboard.app import create_app
from dashboard.serve import serve_in_thread
from gateway.protocol.catalog import catalog
from ingest import rollups
from ingest.database import connect
from ingest.records import Batch, Sample
from ingest.writer import Writer
from propwatch.embedded import EmbeddedPostgres
from propwatch.seed import seed_demo
from simulators.estate import demo_estate

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DAYS = 31
RAW_DAYS = 9
TARGET_MS = 1000.0


def wave(position: int, spec_min: float, spec_max: float, ts: str) -> str:
    """SQL for a slow sine between the metric's catalogue bounds at time ``ts`` (a different period per metric)."""
    low, span = spec_min, min(spec_max - spec_min, 1000.0)
    period = 600 + 37 * position
    return f"round(({low} + {span} * (0.5 + 0.4 * sin(extract(epoch FROM {ts}) / {period})))::numeric, 3)::float8"


def seed(url: str, raw_every_s: int) -> tuple[str, str, str]:
    """The estate, its operator's login and 31 days of the first lift's metrics; returns (device, user, pw)."""
    layout = demo_estate("BENCH", buildings=1)
    device = next(d for d in layout.devices if d.type == "elevator").id
    specs = catalog()["elevator"].metrics
    now = datetime.now(UTC).replace(microsecond=0)
    with connect(url) as conn:
        logins = seed_demo(conn, layout)
        # One message with every metric names them in metric_names, as the first real message would.
        Writer(conn).write(Batch([Sample(device, now, {m: spec.min for m, spec in specs.items()})]))
        ids = dict(conn.execute("SELECT name, id FROM metric_names WHERE name = ANY(%s)", (list(specs),)).fetchall())
        width = max(ids.values())
        by_id = {ids[m]: (k, spec) for k, (m, spec) in enumerate(specs.items())}

        def array(ts: str, scale: str = "") -> str:
            """Every metric's value at ``ts`` in its metric id's position (others NULL), times ``scale``."""
            cells = []
            for position in range(1, width + 1):
                k, spec = by_id.get(position, (0, None))
                cells.append(f"{wave(k, spec.min, spec.max, ts)}{scale}" if spec else "NULL")
            return "ARRAY[" + ", ".join(cells) + "]::float8[]"

        settled = rollups.settled_until(now)
        conn.execute(
            f"""INSERT INTO readings (device_id, ts, vals)
                SELECT %s, ts, {array('ts')} FROM generate_series(%s::timestamptz, %s, %s) ts
                ON CONFLICT DO NOTHING""",  # noqa: S608 -- built from catalogue numbers only
            (device, now - timedelta(days=RAW_DAYS), now - timedelta(seconds=1), timedelta(seconds=raw_every_s)))
        conn.execute(
            f"""INSERT INTO readings_hourly (device_id, hour, mins, maxs, sums, counts, lasts, last_ts)
                SELECT %s, h, {array('h', ' - 0.1')}, {array('h', ' + 0.1')}, {array('h', ' * 3600')},
                       array_fill(3600, ARRAY[{width}]), {array('h')},
                       array_fill(h + interval '3599 seconds', ARRAY[{width}])
                FROM generate_series(%s::timestamptz, %s, '1 hour') h""",  # noqa: S608 -- catalogue numbers only
            (device, now.replace(minute=0, second=0) - timedelta(days=DAYS), settled - timedelta(hours=1)))
        conn.execute("""INSERT INTO rollup_progress (relation, done_until) VALUES (%s, %s)
                        ON CONFLICT (relation) DO UPDATE SET done_until = excluded.done_until""",
                     (rollups.RELATION, settled))
        conn.execute("UPDATE retention_policies SET drop_after = %s WHERE relation = 'readings'",
                     (rollups.RETENTION_FLOOR,))
        conn.commit()
    with connect(url, autocommit=True) as conn:
        # The recent hours as the pipeline's maintenance pass (at start, then every 15 minutes) rolls them up.
        rollups.refresh_recent(conn, now=now)
    operator = next(login for login in logins if login.role == "operator")
    return device, operator.username, operator.password


def measure(base_url: str, device: str, username: str, password: str, runs: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    first, screen, after_data = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1366, "height": 860})
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login")
        page.wait_for_url(lambda url: "/login" not in url)
        for _ in range(runs):
            page.goto(f"/devices/{device}?range=30d")
            # Every chart in the first screen has drawn (those below are drawn as they scroll into view).
            page.wait_for_function("""() => {
                const shown = [...document.querySelectorAll('figure.dev-chart')]
                  .filter((f) => f.getBoundingClientRect().top < innerHeight + 200);
                return shown.length && shown.every((f) => f.dataset.state === 'ready');
            }""", timeout=30_000)
            times = page.evaluate("Object.values(window.deviceCharts.rendered)")
            first.append(min(times))
            screen.append(max(times))
            # ECharts' own share: from the first chart's series arriving to that chart drawn.
            after_data.append(page.evaluate("""() => {
                const [metric, drawn] = Object.entries(window.deviceCharts.rendered).sort((a, b) => a[1] - b[1])[0];
                const fetched = performance.getEntriesByType('resource')
                  .filter((e) => e.name.includes('/history?') && e.name.includes(`metric=${metric}&`));
                return drawn - fetched[fetched.length - 1].responseEnd;
            }"""))
        started = time.perf_counter()
        end = datetime.now(UTC)
        response = page.request.get(f"/api/v1/devices/{device}/history", params={
            "metric": "speed", "resolution": "1h", "start": (end - timedelta(days=30)).isoformat(),
            "end": end.isoformat()})
        api_ms = (time.perf_counter() - started) * 1000
        points = len(response.json()["points"])
        browser.close()
    warm_first, warm_screen = first[1:] or first, screen[1:] or screen
    return {"runs": runs, "charts_in_first_screen": len(times), "points_30d_hourly": points,
            "cold_first_chart_ms": round(first[0], 1), "cold_first_screen_ms": round(screen[0], 1),
            "warm_first_chart_median_ms": round(statistics.median(warm_first), 1),
            "warm_first_chart_max_ms": round(max(warm_first), 1),
            "warm_first_screen_median_ms": round(statistics.median(warm_screen), 1),
            "warm_first_screen_max_ms": round(max(warm_screen), 1),
            "warm_draw_after_data_median_ms": round(statistics.median(after_data[1:] or after_data), 1),
            "history_api_30d_ms": round(api_ms, 1)}


def run(url: str, runs: int, raw_every_s: int) -> dict[str, object]:
    started = time.perf_counter()
    device, username, password = seed(url, raw_every_s)
    seeded_s = time.perf_counter() - started
    with connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE readings")
        conn.execute("VACUUM ANALYZE readings_hourly")
    app = create_app(database_url=url, secret_key="page-speed-benchmark")
    with serve_in_thread(app) as base_url:
        figures = measure(base_url, device, username, password, runs)
    return {"raw_every_s": raw_every_s, "seed_s": round(seeded_s, 1), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads (the first with an empty cache)")
    parser.add_argument("--raw-every-s", type=int, default=1,
                        help="seconds between the raw rows of the last 9 days (default 1: 1 Hz, as lifts report)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    configured = os.environ.get("PROPWATCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="pw-bench-pages-") as tmp:
        server = None if configured else EmbeddedPostgres(Path(tmp) / "pg")
        admin_url = configured or server.url()
        try:
            name, url = prepare_database(admin_url)
            try:
                figures = run(url, args.runs, args.raw_every_s)
            finally:
                drop_database(admin_url, name)
        finally:
            if server is not None:
                server.stop()
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    verdict = "met" if figures["warm_first_chart_median_ms"] <= TARGET_MS else "NOT met"
    print(f"30-day chart drawn within {TARGET_MS:.0f} ms (warm median): {verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
