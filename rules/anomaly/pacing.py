"""How often an anomaly rule scores a device: at most once per half the catalogue period of its slowest metric.

A detector costs about a millisecond a row. A device that sends a 60 s metric every second (misconfigured,
hostile, or a load test) would otherwise cost the engine sixty times what the catalogue budgets for it, on the
path every alarm waits behind. Readings that come faster are averaged, per channel, into the next scored row;
half the period, so that readings arriving at their period with some jitter are each scored. The engine paces
live rows (``rules.kinds.anomaly``) and the model refresh paces stored history (``rules.anomaly.refresh``) the
same way, so a detector is trained on the rows it will score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from gateway.protocol.catalog import catalog

Row = tuple[datetime, dict[str, float | None]]


def min_interval_s(device_type: str | None, metrics: Sequence[str]) -> float:
    """Shortest time between two scored rows of ``metrics`` of a ``device_type``: half the catalogue period of the
    slowest of them, 0 (every row) where the catalogue knows none of them."""
    known = catalog().get(device_type) if device_type is not None else None
    periods = [known.metrics[m].period_s for m in metrics if known is not None and m in known.metrics]
    return max(periods, default=0) / 2


class Pacer:
    """Sums a device's readings since its last scored row and says when the next row is due."""

    __slots__ = ("min_interval_s", "row", "row_ts", "scored_ts")

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self.row: dict[str, list[float]] = {}
        self.row_ts: datetime | None = None
        self.scored_ts: datetime | None = None

    def add(self, metric: str, value: float, ts: datetime) -> None:
        """Add one reading at ``ts`` (not older than the newest added)."""
        self.row_ts = ts
        total = self.row.get(metric)
        if total is None:
            self.row[metric] = [value, 1.0]
        else:
            total[0] += value
            total[1] += 1.0

    def take(self) -> Row | None:
        """The row to score now (each channel's mean, at the newest reading's time) or ``None``: nothing waits,
        or the last scored row is more recent than ``min_interval_s`` (the readings keep waiting)."""
        ts = self.row_ts
        if ts is None:
            return None
        if self.scored_ts is not None and (ts - self.scored_ts).total_seconds() < self.min_interval_s:
            return None
        row: dict[str, float | None] = {metric: total / count for metric, (total, count) in self.row.items()}
        self.scored_ts, self.row_ts, self.row = ts, None, {}
        return ts, row


def paced(rows: Iterable[Row], min_interval_s: float) -> list[Row]:
    """The rows the engine would score from ``rows`` (oldest first, one per timestamp, ``None`` = missing)."""
    pacer = Pacer(min_interval_s)
    result = []
    for ts, values in rows:
        if pacer.row_ts is not None and ts != pacer.row_ts and (row := pacer.take()) is not None:
            result.append(row)
        for metric, value in values.items():
            if value is not None:
                pacer.add(metric, value, ts)
    if (row := pacer.take()) is not None:
        result.append(row)
    return result
