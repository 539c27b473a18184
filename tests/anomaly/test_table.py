"""Specification of the scoring command's tolerant parsing of timestamps and cells."""

from __future__ import annotations

import math

from rules.anomaly.table import parse_time, parse_value


def test_naive_timestamp_is_utc():
    assert parse_time("2026-01-01T00:00:00") == parse_time("2026-01-01T00:00:00Z") == 1_767_225_600.0


def test_offset_timestamp_is_converted():
    assert parse_time("2026-01-01T08:00:00+08:00") == 1_767_225_600.0


def test_epoch_seconds_and_milliseconds_are_accepted():
    assert parse_time("1767225600") == parse_time("1767225600000") == 1_767_225_600.0


def test_unreadable_timestamp_is_none():
    assert parse_time("yesterday") is None


def test_empty_nan_and_text_cells_are_missing():
    assert all(math.isnan(parse_value(cell)) for cell in ("", "NaN", "inf", "n/a", " "))


def test_numeric_cell_is_parsed():
    assert parse_value(" 1.5e2 ") == 150.0
