"""UI strings of administration: users and crew, rules and overrides, silences, the responsibility list, preventive plans, audit: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
