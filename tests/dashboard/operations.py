"""Helpers for the operations API tests: the default responsibility list, request bodies for crew and complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from dispatch.responsibility import default_list_path, import_list, parse_list

ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def import_default_list(conn: psycopg.Connection) -> None:
    """The shipped responsibility list, as the demo seeds it."""
    import_list(conn, parse_list(default_list_path().read_text(encoding="utf-8")), actor="system:test")


def crew_body(crew_id: str, site_id: str, *, unit_id: str = "property-eng", skills: list[str] | None = None,
              **extra: Any) -> dict[str, Any]:
    """A crew member on duty around the clock at ``site_id``."""
    return {"id": crew_id, "unit_id": unit_id, "name": f"工程部 {crew_id}", "phone": "13800138000",
            "skills": skills or ["inspection"], "site_ids": [site_id],
            "shifts": [{"days": ALL_WEEK, "start": "00:00", "end": "00:00"}], "timezone": "Asia/Shanghai", **extra}


def hotline_body(site_id: str, ticket_no: str, *, category: str = "noise", address: str = "1号楼2单元1202",
                 description: str = "楼上每晚23点后装修电钻声", **extra: Any) -> dict[str, Any]:
    """A 12345 ticket received now, reply due in five days, first contact within a day."""
    now = datetime.now(UTC)
    return {"site_id": site_id, "origin": "hotline_12345", "category": category, "description": description,
            "address": address, "building_unit": "2单元", "floor": "12", "reporter_contact": "13912345678",
            "hotline": {"ticket_no": ticket_no, "received_at": now.isoformat(),
                        "contact_due": (now + timedelta(days=1)).isoformat(),
                        "reply_due": (now + timedelta(days=5)).isoformat()}, **extra}
