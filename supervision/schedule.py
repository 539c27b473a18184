"""The monthly credit job: on the first of each month, 02:00 China time, every company serving an estate in the
month just ended is evaluated (``supervision.credit.recompute_all``); a rerun replaces the same rows."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import psycopg
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from ingest.database import connect
from supervision.credit import recompute_all
from supervision.lists import LIST_TIMEZONE

log = logging.getLogger(__name__)
JOB_ID = "supervision-credit"


def previous_month(now: datetime) -> date:
    """The first day of the month before the one ``now`` falls in, in China time."""
    first = now.astimezone(LIST_TIMEZONE).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def run_monthly(database_url: str, now: datetime | None = None) -> int:
    """Evaluate the month before ``now`` (default: now) for every company; returns how many were evaluated."""
    month = previous_month(now or datetime.now(UTC))
    with connect(database_url) as conn:
        done = recompute_all(conn, month)
        conn.commit()
    log.info("credit evaluation of %s: %d companies", month.strftime("%Y-%m"), len(done))
    return len(done)


def schedule_credit(scheduler: BaseScheduler, database_url: str) -> None:
    """Add (or replace) the monthly credit job on ``scheduler``."""
    scheduler.add_job(
        _run_logged, CronTrigger(day=1, hour=2, minute=0, timezone=LIST_TIMEZONE), args=(database_url,),
        id=JOB_ID, name="monthly credit evaluation", replace_existing=True, max_instances=1, coalesce=True,
    )


def _run_logged(database_url: str) -> None:
    try:
        run_monthly(database_url)
    except psycopg.Error:
        log.exception("credit evaluation could not reach the database; run it again or wait for next month")
