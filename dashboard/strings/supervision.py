"""UI strings of the sub-district's supervision pages: companies, inspections, credit, red and black lists.

Each key maps to its (zh-CN, English) pair.
"""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {}
