"""Rolling window that keeps its values sorted, for O(log n) medians and interquartile ranges."""

from __future__ import annotations

import bisect
from collections import deque
from typing import Any


class SortedWindow:
    """The last ``size`` values, in arrival order and in sorted order."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._arrival: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def push(self, value: float) -> None:
        """Add ``value``, evicting the oldest one once the window is full."""
        self._arrival.append(value)
        bisect.insort(self._sorted, value)
        if len(self._arrival) > self.size:
            oldest = self._arrival.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, oldest)]

    def median(self) -> float:
        """Median of the window; the window must not be empty."""
        values = self._sorted
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])

    def spread(self) -> float:
        """Interquartile range by nearest rank (cheap, for a noise scale); the window must not be empty."""
        values = self._sorted
        n = len(values) - 1
        return values[(3 * n + 2) // 4] - values[(n + 2) // 4]

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"size": self.size, "values": list(self._arrival)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SortedWindow:
        """Rebuild a window from :meth:`state_dict`."""
        window = cls(state["size"])
        for value in state["values"]:
            window.push(value)
        return window
