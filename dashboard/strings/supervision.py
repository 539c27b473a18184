"""UI strings of the sub-district's supervision pages: companies, inspections, credit, red and black lists: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
