"""UI strings of administration: users, crew, rules, silences, the responsibility list, plans, audit.

Each key maps to its (zh-CN, English) pair.
"""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
