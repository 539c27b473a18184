"""Specification of the demo's anomaly history: seeded once, its detectors are armed before the pipeline starts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from propwatch.seed import register_estate, seed_anomaly_history
from rules.anomaly.config import DetectorConfig
from rules.anomaly.dbstore import DatabaseModelStore
from rules.anomaly.detector import StreamingDetector
from simulators.estate import demo_estate

NOW = datetime(2026, 6, 1, 8, tzinfo=UTC)


def _small_estate():
    """The demo estate with one lift and the pump room: the devices the default pack's anomaly rules cover."""
    layout = demo_estate("S9")
    keep = {"S9-B01-EL01", "S9-PR01"}
    return replace(layout, devices=[d for d in layout.devices if d.id in keep])


def test_seeded_history_arms_every_anomaly_detector_of_the_demo(db, db_url):
    layout = _small_estate()
    register_estate(db, layout)
    db.commit()
    seed_anomaly_history(db_url, layout, now=NOW)
    rows = DatabaseModelStore(db_url).newest_rows(["elevator.door_slowing/S9-B01-EL01",
                                                   "water.pump_vibration_anomaly/S9-PR01"])
    assert len(rows) == 2 and min(rows.values()) >= DetectorConfig().warmup_rows
    door = StreamingDetector.from_state(DatabaseModelStore(db_url).latest("elevator.door_slowing/S9-B01-EL01").state)
    assert door.update(NOW, {"door_close_time": 12.0}).abnormal  # a door four times slower is raised at once


def test_a_second_seeding_stores_nothing_new(db, db_url):
    layout = _small_estate()
    register_estate(db, layout)
    db.commit()
    seed_anomaly_history(db_url, layout, now=NOW)
    store = DatabaseModelStore(db_url)
    before = store.newest_versions(["elevator.door_slowing/S9-B01-EL01"])
    seed_anomaly_history(db_url, layout, now=NOW)
    assert store.newest_versions(["elevator.door_slowing/S9-B01-EL01"]) == before
