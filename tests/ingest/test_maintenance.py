"""Storage maintenance happens whoever runs it: failing server jobs are reported and run by propwatch, and a
failing task is reported without stopping the others."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from dashboard.app import create_app
from ingest import maintenance
from ingest.database import connect
from ingest.records import Batch, Sample
from ingest.writer import Writer
from propwatch import cli

NOW = datetime.now(UTC)


def as_url(conninfo: str) -> str:
    """``conninfo`` as the postgresql:// URL that PROPWATCH_DATABASE_URL takes."""
    params = conninfo_to_dict(conninfo)
    return f"postgresql:///{params.pop('dbname')}?{urlencode(params)}"


def write_readings(url: str, start: datetime, count: int) -> None:
    """D1 once a minute from ``start``."""
    with connect(url) as conn:
        Writer(conn).write(Batch([Sample("D1", start + timedelta(minutes=i), {"pressure": float(i % 60)})
                                  for i in range(count)]))


def fresh_compression_job(conn: psycopg.Connection) -> tuple[int, int]:
    """The readings compression policy created anew: the template's copy of it carries the run state of the
    template's own scheduler, stopped when the template was closed. Returns (job id, hypertable id)."""
    conn.execute("SELECT remove_compression_policy('readings')")
    job_id = conn.execute("SELECT add_compression_policy('readings', interval '7 days')").fetchone()[0]
    config = conn.execute("SELECT config FROM timescaledb_information.jobs WHERE job_id = %s", (job_id,)).fetchone()
    return job_id, config[0]["hypertable_id"]


def wait_for_failed_run(conn: psycopg.Connection, job_id: int, since: datetime, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(
            """SELECT last_run_status FROM timescaledb_information.job_stats
               WHERE job_id = %s AND last_run_started_at >= %s""", (job_id, since)).fetchone()
        if row and row[0] == "Failed":
            return
        time.sleep(0.5)
    pytest.fail(f"the server did not run job {job_id} within {timeout_s} s")


def uncompressed_old_chunks(conn: psycopg.Connection) -> int:
    return conn.execute(
        """SELECT count(*) FROM timescaledb_information.chunks
           WHERE hypertable_name = 'readings' AND NOT is_compressed AND range_end < now() - interval '7 days'"""
    ).fetchone()[0]


def test_a_job_the_server_fails_to_run_is_reported_once_and_run_by_propwatch(
    mode_template, scratch_database, caplog: pytest.LogCaptureFixture,
) -> None:
    with scratch_database(mode_template("timescaledb")) as url:
        write_readings(url, NOW - timedelta(days=12), 2 * 1440)
        with connect(url, autocommit=True) as conn:
            # The server starts a job scheduler for a new database at its next poll (up to a minute): now instead.
            conn.execute("SELECT _timescaledb_functions.start_background_workers()")
            job_id, hypertable_id = fresh_compression_job(conn)
            # A job whose configuration lacks its threshold fails in the server's runner, whatever the server.
            broken_at = conn.execute("SELECT now()").fetchone()[0]
            conn.execute("SELECT alter_job(%s, config => %s, next_start => now())",
                         (job_id, Jsonb({"hypertable_id": hypertable_id})))
            wait_for_failed_run(conn, job_id, broken_at)
            conn.execute("SELECT alter_job(%s, config => %s)",
                         (job_id, Jsonb({"hypertable_id": hypertable_id, "compress_after": "7 days"})))
            assert uncompressed_old_chunks(conn) > 0

        runner = maintenance.Maintenance(url)
        with caplog.at_level(logging.INFO, logger="ingest.maintenance"):
            report = runner.run_once(now=NOW)
            runner.run_once(now=NOW)

        failing = [job for job in report.failing_jobs if job.job_id == job_id]
        assert failing and failing[0].error_code == "P0001"
        assert report.tasks[failing[0].task] is None
        with connect(url, autocommit=True) as conn:
            assert uncompressed_old_chunks(conn) == 0
            assert job_id in [job.job_id for job in maintenance.status(conn).jobs if job.failing]
        reports = [r for r in caplog.records if f"job {job_id} " in r.getMessage() and r.levelno == logging.ERROR]
        assert len(reports) == 1
        assert "Fix:" in reports[0].getMessage()
        # Whether the work is done is told from the chunks (the server may retry the job before the pass).
        said = "chunks are behind its horizon" if failing[0].backlog else "its work is done all the same"
        assert said in reports[0].getMessage()


def test_a_failing_task_is_reported_and_the_others_still_run(storage_db_url: str) -> None:
    write_readings(storage_db_url, NOW - timedelta(days=10), 60)
    with connect(storage_db_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE readings_hourly ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
        failed = maintenance.run(conn, now=NOW, every_job=True)
        conn.execute("ALTER TABLE readings_hourly DROP CONSTRAINT refuse_all")
        again = maintenance.run(conn, now=NOW, every_job=True)
        runs = {run.task: run for run in maintenance.status(conn).tasks}

    # Both rollups write readings_hourly: both fail, and every other task still runs.
    assert "refuse_all" in failed.tasks["rollup readings_hourly"]
    assert "refuse_all" in failed.tasks["rollup recent hours"]
    assert [task for task, error in failed.tasks.items() if error is None] == list(again.tasks)[2:]
    assert len(again.tasks) > 1 and again.ok
    rollup_runs = runs["rollup readings_hourly"]
    assert (rollup_runs.ok, rollup_runs.successes, rollup_runs.failures) == (True, 1, 1)


def test_rollups_past_their_own_retention_are_dropped(storage_db_url: str) -> None:
    with connect(storage_db_url, autocommit=True) as conn:
        for age in (timedelta(days=11 * 366), timedelta(days=30)):
            conn.execute("""INSERT INTO readings_hourly VALUES ('D1', date_trunc('hour', now() - %s),
                            '{1}', '{1}', '{1}', '{1}', '{1}', ARRAY[now() - %s])""", (age, age))
        assert maintenance.run(conn, now=NOW, every_job=True).ok
        ages = conn.execute("SELECT now() - hour FROM readings_hourly").fetchall()
    assert [age.days for (age,) in ages] == [30]


def test_the_scheduled_pass_runs_once_at_start(storage_db_url: str) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)
    maintenance.schedule_maintenance(scheduler, storage_db_url)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        with connect(storage_db_url, autocommit=True) as conn:
            while not maintenance.task_runs(conn) and time.monotonic() < deadline:
                time.sleep(0.2)
            tasks = {run.task: run.ok for run in maintenance.task_runs(conn)}
    finally:
        scheduler.shutdown()
    assert tasks["rollup readings_hourly"] is True


def test_a_pass_is_skipped_while_another_process_runs_one(storage_db_url: str) -> None:
    with connect(storage_db_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (maintenance.LOCK_KEY,))
        assert maintenance.Maintenance(storage_db_url).run_once(now=NOW) is None
        assert maintenance.task_runs(other) == []


def test_metrics_export_failing_tasks_and_server_jobs(storage_db_url: str) -> None:
    write_readings(storage_db_url, NOW - timedelta(days=10), 60)
    with connect(storage_db_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE readings_hourly ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
        maintenance.run(conn, now=NOW)
        jobs = maintenance.server_jobs(conn)
    with TestClient(create_app(database_url=storage_db_url)) as client:
        text = client.get("/metrics").text
    assert 'propwatch_storage_task_ok{task="rollup readings_hourly"} 0' in text
    assert 'propwatch_storage_task_failures_total{task="rollup readings_hourly"} 1' in text
    for job in jobs:
        assert f'propwatch_storage_job_failing{{job_id="{job.job_id}",' in text


def test_propwatch_db_maintain_runs_the_maintenance_and_says_what_it_did(
    storage_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROPWATCH_DATABASE_URL", as_url(storage_db_url))
    assert cli.main(["db", "maintain"]) == 0
    assert "  rollup readings_hourly: ok" in capsys.readouterr().out.splitlines()


def server_job(**state: object) -> maintenance.ServerJob:
    defaults = {"job_id": 1000, "proc": "policy_compression", "relation": "readings",
                "schedule_interval": timedelta(hours=12), "last_run_status": None, "last_success": None,
                "total_failures": 0, "next_start": NOW, "error_code": None, "error": None, "overdue": False}
    return maintenance.ServerJob(**{**defaults, **state})


def test_the_job_runner_fault_is_told_apart_from_the_jobs_own_errors() -> None:
    runner = server_job(last_run_status="Failed", error_code="24000",
                        error='cannot drop portal "" while it is being set up')
    own = server_job(last_run_status="Failed", error_code="P0001", error="config must have compress_after")
    assert "upgrade TimescaleDB or PostgreSQL" in runner.fix
    assert own.fix == maintenance.JOB_ERROR


def test_a_job_the_server_never_starts_is_failing_and_points_at_the_worker_settings() -> None:
    job = server_job(overdue=True, next_start=NOW - timedelta(hours=1))
    assert job.failing
    assert "max_worker_processes" in job.fix


def write_half_hourly(url: str, start: datetime, end: datetime) -> None:
    """D1 every 30 minutes from ``start`` until ``end``."""
    count = int((end - start) / timedelta(minutes=30))
    with connect(url) as conn:
        Writer(conn).write(Batch([Sample("D1", start + timedelta(minutes=30 * i), {"pressure": 1.0})
                                  for i in range(count)]))


def test_plain_mode_refuses_raw_retention_below_the_rollup_floor(mode_template, scratch_database) -> None:
    with (scratch_database(mode_template("plain")) as url, connect(url, autocommit=True) as conn,
          pytest.raises(psycopg.errors.CheckViolation)):
        conn.execute("UPDATE retention_policies SET drop_after = interval '3 days' WHERE relation = 'readings'")


def test_a_timescaledb_retention_below_the_floor_is_reported_rolled_up_and_put_back(
    mode_template, scratch_database,
) -> None:
    with scratch_database(mode_template("timescaledb")) as url:
        write_half_hourly(url, NOW - timedelta(days=12), NOW)
        with connect(url, autocommit=True) as conn:
            conn.execute("SELECT remove_retention_policy('readings')")
            conn.execute("SELECT add_retention_policy('readings', interval '3 days')")
            report = maintenance.run(conn, now=NOW)
            drop_after = conn.execute(
                "SELECT drop_after FROM retention_policies WHERE relation = 'readings'").fetchone()[0]
            newest_rolled_up = conn.execute("SELECT max(hour) FROM readings_hourly").fetchone()[0]
            again = maintenance.run(conn, now=NOW)

    assert "below the floor of 8 days" in report.tasks["retention floor readings"]
    assert not report.ok
    assert drop_after == timedelta(days=8)
    # Every hour older than the short policy's boundary has its rollup, settled or not.
    assert newest_rolled_up >= (NOW - timedelta(days=3)).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    assert again.tasks["retention floor readings"] is None


def test_runs_of_a_removed_job_are_forgotten(mode_template, scratch_database) -> None:
    with scratch_database(mode_template("timescaledb")) as url, connect(url, autocommit=True) as conn:
        maintenance.run(conn, now=NOW, every_job=True)
        job_id, _ = fresh_compression_job(conn)
        maintenance.run(conn, now=NOW, every_job=True)
        before = {run.task for run in maintenance.status(conn).tasks}
        conn.execute("SELECT remove_compression_policy('readings')")
        maintenance.run(conn, now=NOW)
        after = {run.task for run in maintenance.status(conn).tasks}

    removed = f"job {job_id} policy_compression on readings"
    assert removed in before
    assert removed not in after and "rollup readings_hourly" in after


def test_a_compression_job_behind_its_work_has_a_backlog_until_the_chunks_are_compressed(
    mode_template, scratch_database,
) -> None:
    with scratch_database(mode_template("timescaledb")) as url:
        write_readings(url, NOW - timedelta(days=12), 2 * 1440)
        with connect(url, autocommit=True) as conn:
            job_id, _ = fresh_compression_job(conn)
            before = {job.job_id: job.backlog for job in maintenance.status(conn).jobs}
            maintenance.run(conn, now=NOW, every_job=True)
            after = {job.job_id: job.backlog for job in maintenance.status(conn).jobs}
            old_chunks = uncompressed_old_chunks(conn)

    assert before[job_id] > 0
    assert after[job_id] == old_chunks == 0
