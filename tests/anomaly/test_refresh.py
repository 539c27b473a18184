"""Specification of training detectors from stored readings: the daily refresh, the warm-up, their schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from rules.anomaly.dbstore import DatabaseModelStore
from rules.anomaly.refresh import (
    JOB_ID,
    WARM_UP_JOB_ID,
    RefreshedModel,
    refresh_models,
    schedule_refresh,
    warm_up_models,
)
from rules.anomaly.store import train_detector
from rules.loader import parse_pack

from .conftest import CHANNELS, PUMP_RULE, vibration_rows, write_rows

NOW = datetime(2026, 6, 1, 18, tzinfo=UTC)
WS1_KEY = "pump.anomaly/S1-B1-WS1"


def test_refresh_trains_each_detector_on_its_devices_stored_readings(db, db_url, devices, pump_pack):
    rows = vibration_rows(300)
    times = write_rows(db, devices["ws1"], NOW - timedelta(hours=6), rows)
    report = refresh_models(db_url, now=NOW, pack=pump_pack)
    assert report.refreshed == [RefreshedModel(WS1_KEY, 1, 300)]
    expected = train_detector(CHANNELS, list(zip(times, rows, strict=True)))
    assert DatabaseModelStore(db_url).latest(WS1_KEY).state == expected.state_dict()


def test_readings_older_than_the_lookback_are_left_out(db, db_url, devices, pump_pack):
    write_rows(db, devices["ws1"], NOW - timedelta(days=3), vibration_rows(100))
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(200))
    report = refresh_models(db_url, now=NOW, lookback=timedelta(days=1), pack=pump_pack)
    assert report.refreshed == [RefreshedModel(WS1_KEY, 1, 200)]


def test_a_device_without_readings_gets_no_version(db, db_url, devices, pump_pack):
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(50))
    report = refresh_models(db_url, now=NOW, pack=pump_pack)
    assert report.no_history == ["pump.anomaly/S1-B1-WS2"]
    assert DatabaseModelStore(db_url).latest("pump.anomaly/S1-B1-WS2") is None


def test_a_rule_disabled_for_a_device_is_not_trained(db, db_url, devices):
    pack = parse_pack(PUMP_RULE + f"""
overrides:
  - rule: pump.anomaly
    device: {devices["ws1"]}
    set: {{enabled: false}}
""", "<test>")
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(50))
    write_rows(db, devices["ws2"], NOW - timedelta(hours=6), vibration_rows(50))
    report = refresh_models(db_url, now=NOW, pack=pack)
    assert [m.key for m in report.refreshed] == ["pump.anomaly/S1-B1-WS2"]


def test_running_twice_in_one_day_stores_one_version(db, db_url, devices, pump_pack):
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(50))
    refresh_models(db_url, now=NOW, pack=pump_pack)
    again = refresh_models(db_url, now=NOW + timedelta(hours=5), pack=pump_pack)
    assert again.refreshed == [] and again.already_done == [WS1_KEY]
    assert DatabaseModelStore(db_url).versions(WS1_KEY) == [1]


def test_the_next_days_run_stores_the_next_version(db, db_url, devices, pump_pack):
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(50))
    refresh_models(db_url, now=NOW, pack=pump_pack)
    report = refresh_models(db_url, now=NOW + timedelta(days=1), pack=pump_pack)
    assert [(m.key, m.version) for m in report.refreshed] == [(WS1_KEY, 2)]


def test_schedule_refresh_adds_a_daily_job_at_18_utc(db_url):
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_refresh(scheduler, db_url)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(JOB_ID)
        assert isinstance(job.trigger, CronTrigger)
        first = job.next_run_time
        assert (first.hour, first.minute, first.utcoffset()) == (18, 0, timedelta(0))
        assert timedelta(0) < first - datetime.now(UTC) <= timedelta(days=1)
        assert job.trigger.get_next_fire_time(first, first + timedelta(seconds=1)) == first + timedelta(days=1)
    finally:
        scheduler.shutdown(wait=False)


def test_the_scheduled_job_refreshes_as_of_the_current_day(db, db_url, devices, pump_pack):
    write_rows(db, devices["ws1"], datetime.now(UTC) - timedelta(hours=2), vibration_rows(60))
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_refresh(scheduler, db_url, pack=pump_pack)
    job = scheduler.get_job(JOB_ID)
    report = job.func(*job.args, **job.kwargs)
    assert report.refreshed == [RefreshedModel(WS1_KEY, 1, 60)]
    assert DatabaseModelStore(db_url).refreshed_on(WS1_KEY, report.day)


def test_warm_up_trains_a_detector_without_a_model_from_its_history(db, db_url, devices, pump_pack):
    rows = vibration_rows(300)
    times = write_rows(db, devices["ws1"], NOW - timedelta(hours=6), rows)
    report = warm_up_models(db_url, now=NOW, pack=pump_pack)
    assert report.refreshed == [RefreshedModel(WS1_KEY, 1, 300)]
    stored = DatabaseModelStore(db_url).latest(WS1_KEY)
    assert stored.state == train_detector(CHANNELS, list(zip(times, rows, strict=True))).state_dict()


def test_warm_up_replaces_a_model_still_warming_up_and_leaves_an_armed_one(db, db_url, devices, pump_pack):
    store = DatabaseModelStore(db_url)
    write_rows(db, devices["ws1"], NOW - timedelta(hours=6), vibration_rows(300))
    write_rows(db, devices["ws2"], NOW - timedelta(hours=6), vibration_rows(300, seed=1))
    young = train_detector(CHANNELS, [(NOW - timedelta(hours=7), {c: 0.1 for c in CHANNELS})])
    store.put(WS1_KEY, young.state_dict(), trained_at=NOW, rows=young.rows_seen)
    armed = train_detector(CHANNELS, [(NOW - timedelta(hours=7) + i * timedelta(seconds=1), row)
                                      for i, row in enumerate(vibration_rows(200, seed=2))])
    store.put("pump.anomaly/S1-B1-WS2", armed.state_dict(), trained_at=NOW, rows=armed.rows_seen)
    report = warm_up_models(db_url, now=NOW, pack=pump_pack)
    assert report.refreshed == [RefreshedModel(WS1_KEY, 2, 300)]
    assert report.already_done == ["pump.anomaly/S1-B1-WS2"]


def test_schedule_refresh_warms_up_at_start_and_every_ten_minutes(db_url):
    scheduler = BackgroundScheduler(timezone=UTC)
    schedule_refresh(scheduler, db_url)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(WARM_UP_JOB_ID)
        assert job.next_run_time <= datetime.now(UTC)
        assert job.trigger.interval == timedelta(minutes=10)
    finally:
        scheduler.shutdown(wait=False)
