"""Prometheus text-format metrics without a client library: request counts and durations per route, the
state of storage maintenance (``ingest.maintenance``) and the gateways' counters (``gateway.health``)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg_pool import ConnectionPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.health import GatewayCounts, gateway_counts
from ingest import maintenance

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    """Counters and histograms for one app instance (kept on ``app.state.metrics``)."""

    requests: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    durations: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    sums: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    gauges: dict[str, Callable[[], float]] = field(default_factory=dict)
    collectors: list[Callable[[], list[str]]] = field(default_factory=list)  # more exposition lines per scrape
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self.durations.setdefault((method, route), [0.0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.sums[(method, route)] += seconds

    def render(self) -> str:
        """The Prometheus exposition text."""
        lines = ["# HELP propwatch_http_requests_total HTTP requests by method, route and status.",
                 "# TYPE propwatch_http_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'propwatch_http_requests_total{{method="{method}",route="{route}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP propwatch_http_request_duration_seconds Request duration.",
                      "# TYPE propwatch_http_request_duration_seconds histogram"]
            for (method, route), counts in sorted(self.durations.items()):
                labels = f'method="{method}",route="{route}"'
                for bound, n in zip(BUCKETS, counts, strict=False):
                    lines.append(f'propwatch_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {n:g}')
                lines.append(f'propwatch_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {counts[-1]:g}')
                lines.append(f"propwatch_http_request_duration_seconds_sum{{{labels}}} "
                             f"{self.sums[(method, route)]:.6f}")
                lines.append(f"propwatch_http_request_duration_seconds_count{{{labels}}} {counts[-1]:g}")
        for name, read in sorted(self.gauges.items()):
            lines += [f"# TYPE {name} gauge", f"{name} {read():g}"]
        for collect in self.collectors:
            lines += collect()
        return "\n".join(lines) + "\n"


def storage_maintenance_collector(pool: ConnectionPool) -> Callable[[], list[str]]:
    """A collector reading ``ingest.maintenance.status`` at each scrape (``propwatch_storage_*``)."""

    def collect() -> list[str]:
        try:
            with pool.connection(timeout=2) as conn:
                return storage_maintenance_lines(maintenance.status(conn))
        except psycopg.Error:  # the pool's timeout is a psycopg error too
            return ["# TYPE propwatch_storage_status_up gauge", "propwatch_storage_status_up 0"]

    return collect


def storage_maintenance_lines(status: maintenance.MaintenanceStatus) -> list[str]:
    """TimescaleDB jobs the server fails to run, and the tasks propwatch runs itself, as exposition lines."""
    lines = ["# TYPE propwatch_storage_status_up gauge", "propwatch_storage_status_up 1",
             "# HELP propwatch_storage_job_failing 1 while the server fails to run this TimescaleDB job.",
             "# TYPE propwatch_storage_job_failing gauge"]
    job_labels = {job.job_id: f'job_id="{job.job_id}",proc="{job.proc}",relation="{job.relation or ""}"'
                  for job in status.jobs}
    lines += [f"propwatch_storage_job_failing{{{job_labels[job.job_id]}}} {int(job.failing)}" for job in status.jobs]
    lines += ["# HELP propwatch_storage_job_failures_total Runs of this TimescaleDB job the server failed.",
              "# TYPE propwatch_storage_job_failures_total counter"]
    lines += [f"propwatch_storage_job_failures_total{{{job_labels[job.job_id]}}} {job.total_failures}"
              for job in status.jobs]
    lines += ["# HELP propwatch_storage_job_backlog_chunks Chunks this TimescaleDB job should have compressed or "
              "dropped by now and has not: the work itself, whatever the server reports of its runs.",
              "# TYPE propwatch_storage_job_backlog_chunks gauge"]
    lines += [f"propwatch_storage_job_backlog_chunks{{{job_labels[job.job_id]}}} {job.backlog}" for job in status.jobs]
    lines += ["# HELP propwatch_storage_task_ok 1 when propwatch's last run of this maintenance task succeeded.",
              "# TYPE propwatch_storage_task_ok gauge"]
    lines += [f'propwatch_storage_task_ok{{task="{task.task}"}} {int(task.ok)}' for task in status.tasks]
    lines += ["# HELP propwatch_storage_task_failures_total Failed runs of this maintenance task by propwatch.",
              "# TYPE propwatch_storage_task_failures_total counter"]
    lines += [f'propwatch_storage_task_failures_total{{task="{task.task}"}} {task.failures}' for task in status.tasks]
    lines += ["# HELP propwatch_storage_task_last_success_timestamp_seconds When this task last succeeded.",
              "# TYPE propwatch_storage_task_last_success_timestamp_seconds gauge"]
    lines += [f'propwatch_storage_task_last_success_timestamp_seconds{{task="{task.task}"}} '
              f"{task.last_success.timestamp():.0f}" for task in status.tasks if task.last_success]
    return lines


def gateway_counters_collector(pool: ConnectionPool) -> Callable[[], list[str]]:
    """A collector reading the gateways' last reported counters at each scrape (``propwatch_gateway_*``)."""

    def collect() -> list[str]:
        try:
            with pool.connection(timeout=2) as conn:
                return gateway_counter_lines(gateway_counts(conn))
        except psycopg.Error:  # the pool's timeout is a psycopg error too
            return ["# TYPE propwatch_gateway_counters_up gauge", "propwatch_gateway_counters_up 0"]

    return collect


def gateway_counter_lines(counts: list[GatewayCounts]) -> list[str]:
    """Each gateway's message outcomes, rejections by reason and dead letters counted but not stored, since the
    gateway started (a restart starts them from zero, as Prometheus counters may), as exposition lines."""
    lines = ["# TYPE propwatch_gateway_counters_up gauge", "propwatch_gateway_counters_up 1",
             "# HELP propwatch_gateway_messages_total Device messages a gateway handled since it started: "
             "accepted, rejected, or cleared (empty: the deletion of a retained copy, stored nowhere).",
             "# TYPE propwatch_gateway_messages_total counter"]
    for c in counts:
        for outcome, n in (("accepted", c.accepted), ("rejected", c.rejected), ("cleared", c.cleared)):
            lines.append(f'propwatch_gateway_messages_total{{gateway="{_label(c.client_id)}",outcome="{outcome}"}} {n}')
    lines += ["# HELP propwatch_gateway_rejected_total Device messages a gateway rejected since it started, by "
              "reason, whether their dead letter was stored or not.",
              "# TYPE propwatch_gateway_rejected_total counter"]
    for c in counts:
        lines += [f'propwatch_gateway_rejected_total{{gateway="{_label(c.client_id)}",reason="{_label(reason)}"}} {n}'
                  for reason, n in sorted(c.rejected_by_reason.items())]
    lines += ["# HELP propwatch_gateway_dead_letters_suppressed_total Rejected messages beyond their device's "
              "dead-letter allowance: counted, not stored.",
              "# TYPE propwatch_gateway_dead_letters_suppressed_total counter"]
    lines += [f'propwatch_gateway_dead_letters_suppressed_total{{gateway="{_label(c.client_id)}"}} '
              f"{c.dead_letters_suppressed}" for c in counts]
    return lines


def _label(value: str) -> str:
    # The exposition format's escapes for a label value.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label set), or ``unmatched``."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request and logging it once, without personal data: the path without
    its query string, and the client's address only when ``log_client_address`` is set."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: Callable[..., None], *,
                 log_client_address: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log
        self.log_client_address = log_client_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            fields = {"method": scope["method"], "path": scope["path"], "route": route, "status": status,
                      "duration_ms": round(elapsed * 1000, 1)}
            if self.log_client_address and scope.get("client"):
                fields["client"] = scope["client"][0]
            self.log("request", extra=fields)
