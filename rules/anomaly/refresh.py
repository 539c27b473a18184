"""Training detectors from stored readings: the daily model refresh, and the warm-up of detectors without a model.

For each device and ``anomaly`` rule the engine binds (same pack, overrides and registry), the device's readings
of the last ``lookback`` are replayed into a fresh detector that is stored as the next version. The running
engine takes it up at its next checkpoint (``rules.hooks.DetectorScorer.flush``). A version records the UTC day
of its refresh, so running the job again that day (a restart, a manual run) adds nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ingest.database import connect
from ingest.history import MAX_POINTS, HistoryError, raw_points
from ingest.registry import list_devices
from rules import store as rule_store
from rules.anomaly.config import DetectorConfig
from rules.anomaly.dbstore import AlreadyRefreshed, DatabaseModelStore
from rules.anomaly.pacing import Row, min_interval_s, paced
from rules.anomaly.store import train_detector
from rules.model import AnomalySpec, RulePack
from rules.overrides import apply_overrides

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK = timedelta(days=14)
JOB_ID = "anomaly-model-refresh"
# Warm-up: detectors without a usable model are trained from the last two days of readings (at most ~170,000
# rows of a 1 Hz device, about 20 s of training), every ten minutes and once as soon as the scheduler starts.
WARM_UP_JOB_ID = "anomaly-model-warm-up"
WARM_UP_LOOKBACK = timedelta(days=2)
WARM_UP_EVERY = timedelta(minutes=10)
# History is read in slices so that one query stays under ingest.history's point limit up to ~4.6 Hz.
SLICE = timedelta(hours=6)
# A run delayed by a busy or briefly stopped scheduler still counts for its day.
MISFIRE_GRACE_S = 6 * 3600



@dataclass(frozen=True)
class ModelTarget:
    """One detector the engine runs: its model key (the rule's alarm fingerprint), device and channels."""

    key: str
    device_id: str
    channels: tuple[str, ...]
    min_interval_s: float = 0.0
    """The engine's pace for this rule (``rules.anomaly.pacing``): history is trained on at the same pace."""


@dataclass(frozen=True)
class RefreshedModel:
    """A version the refresh stored."""

    key: str
    version: int
    rows: int


@dataclass(frozen=True)
class RefreshReport:
    """What one run did, per model key."""

    day: date
    refreshed: list[RefreshedModel] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    """Keys that already had a version from this day's refresh."""
    no_history: list[str] = field(default_factory=list)
    """Keys without readings in the lookback: the engine keeps whatever it runs."""
    failed: dict[str, str] = field(default_factory=dict)
    """Key -> why its history could not be read or trained on."""


def anomaly_targets(conn: psycopg.Connection, pack: RulePack | None = None) -> list[ModelTarget]:
    """Every (device, anomaly rule) the engine binds: ``pack`` (None: the default pack) with the stored packs
    laid over it, overrides applied per device, disabled rules left out; in device order."""
    effective = rule_store.effective_pack(conn, pack)
    anomaly_rules = [r for r in effective.rules if r.kind == "anomaly"]
    targets = []
    for device in list_devices(conn):
        scopes = {"device": device.id, "building": device.building_id, "site": device.site_id}
        for base in anomaly_rules:
            if base.device_type != device.type:
                continue
            rule = apply_overrides(base, list(effective.overrides), scopes)
            if rule.enabled and isinstance(rule.spec, AnomalySpec):
                # The key is the engine's alarm fingerprint for the rule on this device, which is what
                # rules.evaluators.AnomalyEvaluator scores under.
                targets.append(ModelTarget(f"{rule.id}/{device.id}", device.id, rule.spec.metrics,
                                           min_interval_s(device.type, rule.spec.metrics)))
    return targets


def device_history(conn: psycopg.Connection, device_id: str, channels: tuple[str, ...], start: datetime,
                   end: datetime) -> list[Row]:
    """The device's readings of ``channels`` in ``[start, end)`` as rows, oldest first, one row per timestamp
    (as the engine forms them from a message's metrics)."""
    rows: dict[datetime, dict[str, float | None]] = {}
    for metric in channels:
        for s, e in _slices(start, end):
            for point in raw_points(conn, device_id, metric, s, e, limit=MAX_POINTS):
                rows.setdefault(point.ts, {})[metric] = point.value
    return sorted(rows.items())


def _slices(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    while start < end:
        yield start, min(start + SLICE, end)
        start += SLICE


def refresh_models(database_url: str, *, now: datetime, lookback: timedelta = DEFAULT_LOOKBACK,
                   pack: RulePack | None = None) -> RefreshReport:
    """Train each anomaly detector from its device's readings in ``[now - lookback, now)`` and store it as the
    next version, unless the key already has a version from ``now``'s UTC day.

    ``pack`` is the engine's base pack (None: the default pack). Warm-up stays honest: a detector trained on
    less history than its warm-up still raises nothing until it has seen enough rows live.
    """
    report = RefreshReport(day=_utc(now).date())
    return _train(database_url, now, lookback, pack, report, lambda models, keys: {
        key for key in keys if models.refreshed_on(key, report.day)}, refresh_day=report.day)


def warm_up_models(database_url: str, *, now: datetime, lookback: timedelta = WARM_UP_LOOKBACK,
                   pack: RulePack | None = None) -> RefreshReport:
    """Train, from the device's readings in ``[now - lookback, now)``, every anomaly detector that has no stored
    model or only one still warming up, and store it as the next version: a new device with stored history, or
    a device whose detector the engine had to start fresh, is armed from its history instead of its next
    readings. The running engine takes the versions up at its next checkpoint. Keys whose model has seen a
    warm-up's worth of rows are left alone (``already_done``).
    """
    warm = DetectorConfig().warmup_rows
    return _train(database_url, now, lookback, pack, RefreshReport(day=_utc(now).date()), lambda models, keys: {
        key for key, rows in models.newest_rows(keys).items() if rows >= warm}, refresh_day=None)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _train(database_url: str, now: datetime, lookback: timedelta, pack: RulePack | None, report: RefreshReport,
           done: Callable[[DatabaseModelStore, list[str]], set[str]], *, refresh_day: date | None) -> RefreshReport:
    models = DatabaseModelStore(database_url)
    with contextlib.closing(models), connect(database_url) as conn:
        targets = anomaly_targets(conn, pack)
        conn.commit()
        finished = done(models, [target.key for target in targets])
        for target in targets:
            if target.key in finished:
                report.already_done.append(target.key)
                continue
            try:
                history = paced(device_history(conn, target.device_id, target.channels, now - lookback, now),
                                target.min_interval_s)
            except HistoryError as exc:
                report.failed[target.key] = str(exc)
                continue
            finally:
                conn.commit()
            if not history:
                report.no_history.append(target.key)
                continue
            detector = train_detector(target.channels, history)
            try:
                record = models.put(target.key, detector.state_dict(), trained_at=now, rows=detector.rows_seen,
                                    refresh_day=refresh_day)
            except AlreadyRefreshed:
                # Another run of the same day got there while this one trained.
                report.already_done.append(target.key)
                continue
            report.refreshed.append(RefreshedModel(record.key, record.version, record.rows))
    return report


def run_scheduled_refresh(database_url: str, lookback: timedelta, pack: RulePack | None) -> RefreshReport:
    """The scheduled job: refresh as of the current time and log what was done."""
    report = refresh_models(database_url, now=datetime.now(UTC), lookback=lookback, pack=pack)
    log.info("anomaly models refreshed for %s: %d new, %d already done, %d without history, %d failed",
             report.day, len(report.refreshed), len(report.already_done), len(report.no_history),
             len(report.failed))
    for key, reason in report.failed.items():
        log.warning("anomaly model %s not refreshed: %s", key, reason)
    return report


def run_scheduled_warm_up(database_url: str, pack: RulePack | None) -> RefreshReport:
    """The scheduled warm-up: train detectors that have no usable model from their history, and log it."""
    report = warm_up_models(database_url, now=datetime.now(UTC), pack=pack)
    if report.refreshed:
        log.info("anomaly models warmed up from history: %s", ", ".join(model.key for model in report.refreshed))
    for key, reason in report.failed.items():
        log.warning("anomaly model %s not warmed up: %s", key, reason)
    return report


def schedule_refresh(scheduler: BaseScheduler, database_url: str, *, hour_utc: int = 18,
                     lookback: timedelta = DEFAULT_LOOKBACK, pack: RulePack | None = None) -> None:
    """Add (or replace) the daily refresh job at ``hour_utc``:00 UTC (18:00 UTC is 02:00 China time), and the
    warm-up job (:func:`warm_up_models`) every ``WARM_UP_EVERY`` and once when the scheduler starts.

    ``pack`` must be the base pack the engine was given, so the jobs train the detectors it runs.
    """
    scheduler.add_job(
        run_scheduled_warm_up, IntervalTrigger(seconds=WARM_UP_EVERY.total_seconds(), timezone=UTC),
        args=(database_url, pack), id=WARM_UP_JOB_ID, name="anomaly model warm-up", replace_existing=True,
        max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    scheduler.add_job(
        run_scheduled_refresh, CronTrigger(hour=hour_utc, minute=0, timezone=UTC),
        args=(database_url, lookback, pack), id=JOB_ID, name="anomaly model refresh", replace_existing=True,
        max_instances=1, coalesce=True, misfire_grace_time=MISFIRE_GRACE_S)
