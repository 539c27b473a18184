"""CSV input and output of the scoring command: tolerant parsing of timestamps and readings."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# Epoch numbers above this are taken to be milliseconds (1e11 s is the year 5138).
_EPOCH_MS_ABOVE = 1e11


@dataclass(frozen=True)
class SensorTable:
    """Rows of a scoring input: raw timestamp strings, epoch seconds and an (n, channels) float array."""

    channels: list[str]
    stamps: list[str]
    times: np.ndarray
    values: np.ndarray


def parse_time(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 timestamp (naive = UTC) or an epoch number; None if unreadable."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            return None
        return number / 1000.0 if abs(number) > _EPOCH_MS_ABOVE else number
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def parse_value(text: str) -> float:
    """Float value of a cell; NaN for empty, non-numeric or non-finite cells."""
    try:
        number = float(text)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan


def read_table(path: Path) -> SensorTable:
    """Read a scoring input: header row, first column the timestamp, the rest numeric channels.

    An unreadable timestamp repeats the previous one, so the row is still scored and echoed.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or len(header) < 2:
            raise ValueError(f"{path}: expected a header with a timestamp column and at least one channel")
        channels = header[1:]
        stamps: list[str] = []
        times: list[float] = []
        values: list[list[float]] = []
        previous = 0.0
        width = len(channels)
        for cells in reader:
            if not cells:
                continue
            stamp = cells[0]
            parsed = parse_time(stamp)
            previous = previous if parsed is None else parsed
            row = cells[1 : width + 1]
            try:
                # The common case first: every cell a number or empty (non-finite numbers are cleared below).
                numbers = [float(cell) if cell else math.nan for cell in row]
            except ValueError:
                numbers = [parse_value(cell) for cell in row]
            numbers.extend([math.nan] * (width - len(numbers)))
            stamps.append(stamp)
            times.append(previous)
            values.append(numbers)
    array = np.asarray(values, dtype=float).reshape(len(values), len(channels))
    array[~np.isfinite(array)] = math.nan
    return SensorTable(channels, stamps, np.asarray(times, dtype=float), array)


def write_scores(path: Path, stamps: Sequence[str], scores: Sequence[float], flags: Sequence[bool]) -> None:
    """Write ``timestamp,score,is_anomaly``, one row per input row, timestamps echoed unchanged."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["timestamp", "score", "is_anomaly"])
        for stamp, score, flag in zip(stamps, scores, flags, strict=True):
            writer.writerow([stamp, f"{score:.6f}", int(flag)])
