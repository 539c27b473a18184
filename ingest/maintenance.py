"""Storage maintenance that happens whether or not the server's own job runner works.

Three kinds of work keep storage in shape: the hourly rollups (``ingest.rollups``, run by propwatch in both
modes), retention (raw readings and rollups dropped by age) and, in TimescaleDB mode, compression. In plain mode
propwatch runs retention itself, from ``retention_policies``. In TimescaleDB mode retention and compression are
TimescaleDB jobs; propwatch reads their outcome (``timescaledb_information.job_stats`` and ``job_errors``) and runs
a job itself (``CALL run_job``) while the server fails to: a job that failed its last run, or that is overdue
because the server could not start a worker for it. Either way the policies are applied.

In TimescaleDB mode nothing stops an operator from giving ``readings`` a retention policy shorter than the rollups
need (plain mode's CHECK refuses it): each pass first checks the policy against ``rollups.RETENTION_FLOOR``, rolls
up every day the policy is about to drop, puts the policy back at the floor and reports the task as failed.

Every task propwatch runs is recorded in ``maintenance_runs``; ``status`` gives both views for ``/metrics``, and
``Maintenance`` logs a failing job once, with what fixes it, until it recovers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ingest import rollups
from ingest.database import connect

log = logging.getLogger(__name__)

JOB_ID = "storage-maintenance"
LOCK_KEY = 0x70776D6E  # "pwmn": one maintenance pass at a time per database (released with the session)
DEFAULT_INTERVAL = timedelta(minutes=15)
# How late a job may start before it counts as not started at all (the server's scheduler polls every minute).
OVERDUE_AFTER = timedelta(minutes=10)
# Jobs of the extension that are not storage policies; telemetry needs network access and matters to nobody here.
IGNORED_PROCS = ("policy_telemetry",)

SERVER_JOBS = """
SELECT j.job_id, j.proc_name, j.hypertable_name, j.schedule_interval, s.last_run_status,
       CASE WHEN isfinite(s.last_successful_finish) THEN s.last_successful_finish END,
       coalesce(s.total_failures, 0), CASE WHEN isfinite(s.next_start) THEN s.next_start END,
       e.sqlerrcode, e.err_message,
       coalesce(j.scheduled AND isfinite(s.next_start) AND s.next_start < now() - %(overdue)s, false) AS overdue,
       (SELECT count(*) FROM timescaledb_information.chunks c
        WHERE c.hypertable_schema = j.hypertable_schema AND c.hypertable_name = j.hypertable_name
          AND CASE j.proc_name
                WHEN 'policy_compression'
                  THEN NOT c.is_compressed AND c.range_end < now() - (j.config ->> 'compress_after')::interval
                WHEN 'policy_retention' THEN c.range_end < now() - (j.config ->> 'drop_after')::interval
                ELSE false
              END) AS backlog
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s USING (job_id)
LEFT JOIN LATERAL (SELECT sqlerrcode, err_message FROM timescaledb_information.job_errors e
                   WHERE e.job_id = j.job_id ORDER BY e.start_time DESC LIMIT 1) e ON true
WHERE j.proc_name <> ALL (%(ignored)s) AND (j.hypertable_schema IS NULL OR j.hypertable_schema = current_schema())
ORDER BY j.job_id
"""

RECORD_RUN = """
INSERT INTO maintenance_runs AS m (task, started_at, finished_at, ok, error, successes, failures, last_success)
VALUES (%(task)s, %(started)s, now(), %(ok)s, %(error)s, %(ok)s::int, (NOT %(ok)s)::int,
        CASE WHEN %(ok)s THEN now() END)
ON CONFLICT (task) DO UPDATE
SET started_at = excluded.started_at, finished_at = excluded.finished_at, ok = excluded.ok, error = excluded.error,
    successes = m.successes + excluded.successes, failures = m.failures + excluded.failures,
    last_success = coalesce(excluded.last_success, m.last_success)
"""

# What fixes a failing job, by what went wrong. The portal error is a fault of TimescaleDB's job runner seen with
# TimescaleDB 2.28 on PostgreSQL 15.20: every background job is recorded failed with it after doing its work.
RUNNER_FAULT = ("TimescaleDB's background job runner records every run on this server as failed (SQLSTATE 24000, a "
                "TimescaleDB/PostgreSQL fault, not the job's), though the run may have done its work: upgrade "
                "TimescaleDB or PostgreSQL; until then propwatch runs the job itself")
NOT_STARTED = ("the server did not start the job: make max_worker_processes at least timescaledb.max_background_workers"
               " + max_parallel_workers + 3, and timescaledb.max_background_workers at least the databases using"
               " TimescaleDB plus the jobs that may run at once, then restart PostgreSQL (docs/operations.md); until"
               " then propwatch runs the job itself")
RETENTION_BELOW_FLOOR = (
    "raw retention of readings was {drop_after}, below the floor of {floor} (days are rolled up once settled, 7 days"
    " after): the days it was about to drop were rolled up and the policy was put back at {floor}. Fix: keep raw"
    " retention at {floor} or more (SELECT remove_retention_policy('readings'); SELECT add_retention_policy("
    "'readings', interval '{floor}');)")
JOB_ERROR = "fix the cause of the job's own error; until then propwatch runs the job itself"


@dataclass(frozen=True)
class ServerJob:
    """One TimescaleDB job of this database, as the server's job runner last left it."""

    job_id: int
    proc: str
    relation: str | None
    schedule_interval: timedelta
    last_run_status: str | None  # 'Success', 'Failed', or None before the first run
    last_success: datetime | None
    total_failures: int
    next_start: datetime | None
    error_code: str | None
    error: str | None
    overdue: bool
    # Chunks the job should have handled by now and has not: past compress_after and not compressed, or past
    # drop_after and still there. What says whether the work is done, whatever the server reports of its runs.
    backlog: int = 0

    @property
    def task(self) -> str:
        """The name propwatch records its own runs of this job under."""
        return f"job {self.job_id} {self.proc}" + (f" on {self.relation}" if self.relation else "")

    @property
    def failing(self) -> bool:
        """Whether the server's runner is not applying this job: its last run failed or it was never started."""
        return self.last_run_status == "Failed" or self.overdue

    @property
    def fix(self) -> str:
        """What to change so the server runs the job again."""
        if self.last_run_status == "Failed" and self.error_code == "24000" and "portal" in (self.error or ""):
            return RUNNER_FAULT
        if self.overdue and self.last_run_status != "Failed":
            return NOT_STARTED
        return JOB_ERROR


@dataclass(frozen=True)
class TaskRun:
    """The last run of one maintenance task propwatch ran itself."""

    task: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str | None
    successes: int
    failures: int
    last_success: datetime | None


@dataclass(frozen=True)
class MaintenanceStatus:
    """What ``/metrics`` exports: the server's jobs (TimescaleDB mode) and propwatch's own tasks."""

    mode: str
    jobs: list[ServerJob]
    tasks: list[TaskRun]


@dataclass
class MaintenanceReport:
    """What one ``run`` did: tasks run (name -> error, ``None`` when it succeeded) and jobs found failing."""

    tasks: dict[str, str | None] = field(default_factory=dict)
    failing_jobs: list[ServerJob] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every task propwatch ran succeeded."""
        return all(error is None for error in self.tasks.values())


def storage_mode(conn: psycopg.Connection) -> str:
    """The database's recorded storage mode."""
    return conn.execute("SELECT mode FROM storage_mode").fetchone()[0]


def server_jobs(conn: psycopg.Connection) -> list[ServerJob]:
    """The TimescaleDB jobs of this database with their last outcome; empty in plain mode."""
    if storage_mode(conn) != "timescaledb":
        return []
    rows = conn.execute(SERVER_JOBS, {"overdue": OVERDUE_AFTER, "ignored": list(IGNORED_PROCS)}).fetchall()
    return [ServerJob(*row) for row in rows]


def task_runs(conn: psycopg.Connection) -> list[TaskRun]:
    """The last run of every task propwatch has run itself."""
    rows = conn.execute(
        """SELECT task, started_at, finished_at, ok, error, successes, failures, last_success
           FROM maintenance_runs ORDER BY task"""
    ).fetchall()
    return [TaskRun(*row) for row in rows]


def status(conn: psycopg.Connection) -> MaintenanceStatus:
    """The server's jobs and propwatch's tasks, for monitoring; runs of jobs that no longer exist are left out."""
    jobs = server_jobs(conn)
    existing = {job.task for job in jobs}
    tasks = [t for t in task_runs(conn) if not t.task.startswith("job ") or t.task in existing]
    return MaintenanceStatus(mode=storage_mode(conn), jobs=jobs, tasks=tasks)


def worker_shortfall(conn: psycopg.Connection) -> str | None:
    """Why the server may be unable to start TimescaleDB's workers, or ``None`` when its settings leave room."""
    row = conn.execute(
        """SELECT current_setting('max_worker_processes')::int, current_setting('max_parallel_workers')::int,
                  current_setting('timescaledb.max_background_workers', true)::int"""
    ).fetchone()
    processes, parallel, background = row
    if background is None or processes >= background + parallel + 3:
        return None
    return (f"max_worker_processes = {processes} leaves too few workers for TimescaleDB's jobs: it should be at "
            f"least timescaledb.max_background_workers ({background}) + max_parallel_workers ({parallel}) + 3 = "
            f"{background + parallel + 3} (docs/operations.md)")


def run(conn: psycopg.Connection, *, now: datetime | None = None, every_job: bool = False) -> MaintenanceReport:
    """Roll up settled days and recent hours, then apply retention (plain mode) or run the jobs the server fails
    to run.

    In TimescaleDB mode a failing job is run when it is due by its own schedule, or at once while propwatch's
    last run of it failed; ``every_job`` runs every job now (``propwatch db maintain``). ``conn`` must be in
    autocommit mode: a job run by ``CALL run_job`` commits as it goes. Rollups come first, so retention never
    drops raw readings that are not rolled up yet.
    """
    report = MaintenanceReport()
    _record(conn, report, "rollup readings_hourly", lambda: rollups.refresh(conn, now=now))
    _record(conn, report, "rollup recent hours", lambda: rollups.refresh_recent(conn, now=now))
    if storage_mode(conn) == "plain":
        for relation, drop_after in conn.execute("SELECT relation, drop_after FROM retention_policies").fetchall():
            _record(conn, report, f"retention {relation}", lambda r=relation, d=drop_after: _drop_old(conn, r, d))
        return report
    _record_outcome(conn, report, "retention floor readings", datetime.now(UTC),
                    _restore_retention_floor(conn, now or datetime.now(UTC)))
    jobs = server_jobs(conn)
    _forget_removed_jobs(conn, jobs)
    ran = {t.task: t for t in task_runs(conn)}
    for job in jobs:
        if job.failing:
            report.failing_jobs.append(job)
        previous = ran.get(job.task)
        due = previous is None or not previous.ok or previous.started_at <= datetime.now(UTC) - job.schedule_interval
        if every_job or (job.failing and due):
            _record(conn, report, job.task, lambda j=job.job_id: conn.execute("CALL run_job(%s)", (j,)))
    return report


def _restore_retention_floor(conn: psycopg.Connection, now: datetime) -> str | None:
    """Put a TimescaleDB retention policy of ``readings`` below the floor back at it; what was wrong, or ``None``.

    Before that, every day the short policy is about to drop (all of it older than ``now - drop_after``) is rolled
    up, settled or not, so what the server's job has not dropped yet keeps its hourly history.
    """
    row = conn.execute("SELECT min(drop_after) FROM retention_policies WHERE relation = 'readings'").fetchone()
    drop_after = row[0]
    if drop_after is None or drop_after >= rollups.RETENTION_FLOOR:
        return None
    rollups.refresh(conn, now=now)
    day = rollups.done_until(conn) or rollups.first_day(conn)
    while day is not None and day < now - drop_after:
        with conn.transaction():
            rollups.roll_up_day(conn, day)
        day += rollups.DAY
    with conn.transaction():
        conn.execute("SELECT remove_retention_policy('readings')")
        conn.execute("SELECT add_retention_policy('readings', %s::interval)", (rollups.RETENTION_FLOOR,))
    message = RETENTION_BELOW_FLOOR.format(drop_after=drop_after, floor=_days(rollups.RETENTION_FLOOR))
    log.error("storage maintenance: %s", message)
    return message


def _days(period: timedelta) -> str:
    return f"{period.days} days"


def _forget_removed_jobs(conn: psycopg.Connection, jobs: list[ServerJob]) -> None:
    """Delete propwatch's runs of TimescaleDB jobs that no longer exist, so their series end with them."""
    conn.execute("DELETE FROM maintenance_runs WHERE task LIKE 'job %%' AND task <> ALL (%s)",
                 ([job.task for job in jobs],))


def _drop_old(conn: psycopg.Connection, relation: str, drop_after: timedelta) -> None:
    """Delete what is older than ``drop_after``; raw readings only once they are rolled up."""
    if relation == "readings":
        conn.execute(
            """DELETE FROM readings WHERE ts < now() - %s
                 AND ts < (SELECT done_until FROM rollup_progress WHERE relation = 'readings_hourly')""",
            (drop_after,),
        )
    else:
        conn.execute("DELETE FROM readings_hourly WHERE hour < now() - %s", (drop_after,))


def _record(conn: psycopg.Connection, report: MaintenanceReport, task: str, work: Callable[[], object]) -> None:
    started = datetime.now(UTC)
    error = None
    try:
        work()
    except psycopg.Error as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
        log.warning("storage maintenance: %s failed: %s", task, error)
    _record_outcome(conn, report, task, started, error)


def _record_outcome(conn: psycopg.Connection, report: MaintenanceReport, task: str, started: datetime,
                    error: str | None) -> None:
    report.tasks[task] = error
    conn.execute(RECORD_RUN, {"task": task, "started": started, "ok": error is None, "error": error})


class Maintenance:
    """Runs ``run`` on a schedule and logs each failing server job once (with its fix) until it recovers."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._reported: dict[int, str] = {}  # job id -> the fix logged for it
        self._checked_workers = False

    def run_once(self, now: datetime | None = None) -> MaintenanceReport | None:
        """One maintenance pass; logs failing jobs, never raises for a failed task (the next pass retries).

        ``None`` when another process (a pipeline of another site partition) is running its pass right now.
        """
        with connect(self._database_url, autocommit=True) as conn:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                return None
            if not self._checked_workers and storage_mode(conn) == "timescaledb":
                self._checked_workers = True
                if shortfall := worker_shortfall(conn):
                    log.warning("storage maintenance: %s", shortfall)
            report = run(conn, now=now)
        self._log_jobs(report.failing_jobs)
        return report

    def _log_jobs(self, failing: list[ServerJob]) -> None:
        for job in failing:
            if self._reported.get(job.job_id) == job.fix:
                continue
            self._reported[job.job_id] = job.fix
            if job.last_run_status == "Failed":
                what = f"its last run failed: {job.error} (SQLSTATE {job.error_code})"
            else:
                what = f"it was due at {job.next_start:%Y-%m-%d %H:%M} UTC and has not started"
            done = ("its work is done all the same (no chunk behind)" if job.backlog == 0
                    else f"{job.backlog} chunks are behind its horizon")
            log.error("TimescaleDB %s is not run by the server (%d failures so far): %s; %s. Fix: %s",
                      job.task, job.total_failures, what, done, job.fix)
        for job_id in set(self._reported) - {job.job_id for job in failing}:
            del self._reported[job_id]
            log.info("TimescaleDB job %d runs on the server again", job_id)


def schedule_maintenance(scheduler: BaseScheduler, database_url: str, *,
                         interval: timedelta = DEFAULT_INTERVAL) -> Maintenance:
    """Add (or replace) the maintenance pass every ``interval``, first run at once; returns its runner."""
    maintenance = Maintenance(database_url)
    scheduler.add_job(
        _run_logged, IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC), args=(maintenance,),
        id=JOB_ID, name="storage maintenance", replace_existing=True, max_instances=1, coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    return maintenance


def _run_logged(maintenance: Maintenance) -> None:
    try:
        maintenance.run_once()
    except psycopg.Error:
        log.exception("storage maintenance could not reach the database; retrying at the next pass")
