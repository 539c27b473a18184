"""BLAS limited to one thread around the detector's matrix products, at a cost of microseconds per use.

The detector's products are small (a run of windows against a few thousand reference windows, a covariance of
a few thousand rows): BLAS threads only contend for the cores with the rest of the process (docs/anomaly.md,
Decision 4). ``threadpoolctl.threadpool_limits`` finds the loaded libraries again on every use (0.4 ms); a
controller found once, on first use, only sets and restores the thread count (about 13 µs). Nothing is changed
outside the ``with`` block.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which BLAS runs on one thread (restored on exit)."""
    return _controller().limit(limits=1, user_api="blas")
