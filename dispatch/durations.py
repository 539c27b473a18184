"""Durations as written in the dispatch data files: ``30s``, ``5m``, ``2h``, ``15d``."""

from __future__ import annotations

import re
from datetime import timedelta

_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> timedelta:
    """``"30m"`` → 30 minutes. Raises ``ValueError`` with the accepted forms on anything else."""
    match = _PATTERN.match(str(text))
    if match is None or int(match[1]) <= 0:
        raise ValueError(f"bad duration {text!r}: use a positive number with s, m, h or d (e.g. 30m)")
    return timedelta(seconds=int(match[1]) * _SECONDS[match[2]])


def format_duration(value: timedelta) -> str:
    """The shortest exact form: 1800 s → ``"30m"``."""
    seconds = int(value.total_seconds())
    for suffix in ("d", "h", "m"):
        if seconds % _SECONDS[suffix] == 0:
            return f"{seconds // _SECONDS[suffix]}{suffix}"
    return f"{seconds}s"
