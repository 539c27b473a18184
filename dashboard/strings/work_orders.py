"""UI strings of the work-order board, closed list, search and order pages: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
