"""UI strings of what every page shares: navigation, role home pages, first-run and accessibility labels.

Each key maps to its (zh-CN, English) pair.
"""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "votes": ("业主表决", "Owners' votes"), "supervision": ("物业监管", "Supervision"),
    "admin": ("系统管理", "Administration"),
    "my_reports": ("我的报修", "My reports"), "my_votes": ("我的表决", "My votes"),
}
