"""The pace of anomaly scoring: at most one row per half catalogue period, the readings between averaged, the
same for live rows and for the history a model is trained on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.anomaly.pacing import min_interval_s, paced

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_pace_is_half_the_catalogue_period_of_the_slowest_metric() -> None:
    assert min_interval_s("water_supply", ["pump1_vibration"]) == 5.0  # 10 s in the catalogue
    assert min_interval_s("elevator", ["speed", "door_close_time"]) == 30.0  # 1 s and 60 s


def test_metrics_the_catalogue_does_not_know_are_scored_every_row() -> None:
    assert min_interval_s("elevator", ["no_such_metric"]) == 0.0
    assert min_interval_s(None, ["speed"]) == 0.0


def test_rows_at_the_pace_pass_unchanged() -> None:
    rows = [(at(10 * i), {"v": float(i)}) for i in range(5)]
    assert paced(rows, 5.0) == rows


def test_faster_rows_are_averaged_per_channel_into_the_next_due_row() -> None:
    rows = [(at(i), {"a": float(i), "b": None if i % 2 else 10.0}) for i in range(11)]
    assert paced(rows, 5.0) == [
        (at(0), {"a": 0.0, "b": 10.0}),
        (at(5), {"a": 3.0, "b": 10.0}),  # a: mean of 1..5; b: only seconds 2 and 4 had a reading
        (at(10), {"a": 8.0, "b": 10.0}),
    ]


def test_readings_not_yet_due_at_the_end_are_left_out() -> None:
    assert paced([(at(0), {"v": 1.0}), (at(1), {"v": 2.0})], 5.0) == [(at(0), {"v": 1.0})]
