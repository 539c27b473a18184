"""Numeric arrays inside JSON states: float64 bytes in base64 (exact, about a third of the size of decimal text)."""

from __future__ import annotations

import base64

import numpy as np


def pack(values: np.ndarray) -> str:
    """``values`` (any shape) as base64 of its float64 bytes; the shape is the caller's to keep."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray:
    """Inverse of :func:`pack`: a flat float64 array."""
    return np.frombuffer(base64.b64decode(text), dtype="<f8").copy()
