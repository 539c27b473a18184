"""UI strings of the owners' and committee's pages: fund draws, votes, statements, reports: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
