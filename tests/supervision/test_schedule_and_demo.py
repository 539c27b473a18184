"""The monthly credit job (the month just ended, China time) and the idempotent demo seed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from gateway.protocol.endpoint import MqttEndpoint
from propwatch.pipeline import Pipeline
from supervision import current_project
from supervision.companies import Company
from supervision.credit import credit_history
from supervision.demo import DEMO_COMPANY, seed_demo
from supervision.schedule import JOB_ID, previous_month, run_monthly, schedule_credit

from .conftest import MONTH, SITE


@pytest.mark.parametrize(("now", "month"), [
    (datetime(2026, 11, 30, 15, 59, tzinfo=UTC), date(2026, 10, 1)),  # 23:59 on Nov 30 in China
    (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), date(2026, 11, 1)),  # Dec 1 has begun in China
    (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), date(2026, 12, 1)),
])
def test_the_job_evaluates_the_month_just_ended_in_china(now: datetime, month: date) -> None:
    assert previous_month(now) == month


def test_the_job_runs_on_the_first_of_each_month_at_two_in_china() -> None:
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_credit(scheduler, "postgresql://unused")
    fire = scheduler.get_job(JOB_ID).trigger.get_next_fire_time(None, datetime(2026, 11, 15, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # Dec 1 02:00 in China


def test_a_run_stores_every_serving_company_once_however_often_it_runs(company: Company, db_url: str,
                                                                        served: psycopg.Connection) -> None:
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert run_monthly(db_url, now) == 1
    assert run_monthly(db_url, now) == 1
    assert [m.month for m in credit_history(served, company.id)] == [MONTH]


def test_the_demo_seed_can_run_on_every_start(served: psycopg.Connection) -> None:
    now = datetime(2026, 12, 5, 2, tzinfo=UTC)
    for _ in range(2):
        seed_demo(served, SITE, now=now)
    counts = served.execute(
        """SELECT (SELECT count(*) FROM supervision_companies), (SELECT count(*) FROM supervision_projects),
                  (SELECT count(*) FROM supervision_inspections), (SELECT count(*) FROM supervision_opinions),
                  (SELECT count(*) FROM supervision_credit_months)""").fetchone()
    assert counts == (1, 1, 2, 1, 1)
    view = current_project(served, SITE, now)
    assert (view.company_name, view.credit_code) == (DEMO_COMPANY["name"], DEMO_COMPANY["credit_code"])
    # inspections 88 and 76.50 (mean 82.25) and a good opinion (85), equal weights: 83.63, four stars
    assert (view.credit_month, view.credit_score, view.stars) == (MONTH, Decimal("83.63"), 4)


def test_the_pipeline_schedules_the_credit_job(db_url: str) -> None:
    pipeline = Pipeline(database_url=db_url, endpoint=MqttEndpoint.parse("mqtt://127.0.0.1:1"))
    try:
        assert pipeline.maintenance_scheduler.get_job(JOB_ID) is not None
    finally:
        pipeline.engine.close()
