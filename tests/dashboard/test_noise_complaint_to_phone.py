"""The issue's walk-through on a real server: a 12345 noise complaint reaches a registered crew member's phone
stream with its address and description, is resolved, and the reply and closure owed to 12345 are recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from dashboard.app import create_app
from dashboard.serve import serve_in_thread
from dashboard.users import User

from .conftest import PASSWORD
from .operations import crew_body, hotline_body, import_default_list

NOISE_DESCRIPTION = "楼上每晚23点后装修电钻声，持续一周"
NOISE_ADDRESS = "1号楼2单元1202"


@pytest.fixture
def server(db_url: str, db: psycopg.Connection, estate: str, tmp_path: Path) -> Iterator[str]:
    import_default_list(db)
    app = create_app(database_url=db_url, secret_key="test-secret", uploads_dir=tmp_path / "uploads")
    with serve_in_thread(app) as base:
        yield base


def sign_in(base: str, username: str) -> dict[str, str]:
    res = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def first_offer(base: str, headers: dict[str, str], crew_id: str, trigger: Callable[[], None],
                timeout: float = 20.0) -> dict | None:
    """Open the stream as the phone does, run ``trigger`` once connected, return the first work-order event
    offering an order to ``crew_id``."""
    found = None
    starter = threading.Thread(target=trigger, daemon=True)
    with httpx.Client(timeout=timeout) as client, client.stream(
            "GET", f"{base}/api/v1/events/stream", headers=headers) as res:
        assert res.status_code == 200
        event = None
        for line in res.iter_lines():
            if starter.ident is None and line.startswith(": connected"):
                starter.start()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "work_order":
                data = json.loads(line[6:])
                if data.get("offered_to") == crew_id:
                    found = data
                    break
    starter.join(timeout)
    return found


def test_a_12345_noise_complaint_goes_from_intake_to_the_crew_phone_and_back_to_12345(
        server: str, estate: str, make_user: Callable[..., User]) -> None:
    make_user("admin", site_ids=[])
    make_user("operator")
    admin, operator = sign_in(server, "admin1"), sign_in(server, "operator1")

    # The property company registers a night-shift engineer and gives them a phone login.
    res = httpx.post(f"{server}/api/v1/crew", headers=operator, json=crew_body("pe-night-1", estate))
    assert res.status_code == 201, res.text
    assert res.json()["available_now"] is True
    res = httpx.post(f"{server}/api/v1/users", headers=admin, json={
        "username": "pe-night-1-phone", "password": PASSWORD, "role": "crew", "display_name": "夜班工程师",
        "site_ids": [estate], "crew_member_id": "pe-night-1", "unit_id": "property-eng"})
    assert res.status_code == 201, res.text
    phone = sign_in(server, "pe-night-1-phone")

    # The 12345 desk's ticket arrives while the engineer's phone listens.
    filed: dict[str, httpx.Response] = {}

    def intake() -> None:
        filed["res"] = httpx.post(f"{server}/api/v1/complaints", headers=operator, json=hotline_body(
            estate, "12345-20261125-0042", description=NOISE_DESCRIPTION, address=NOISE_ADDRESS))

    offer = first_offer(server, phone, "pe-night-1", intake)
    assert filed["res"].status_code == 201, filed["res"].text
    order_id = filed["res"].json()["id"]
    assert offer is not None, "the offer never reached the crew member's stream"
    assert (offer["id"], offer["unit_id"], offer["category"]) == (order_id, "property-eng", "noise")
    assert (offer["address"], offer["description"]) == (NOISE_ADDRESS, NOISE_DESCRIPTION)
    assert "13912345678" not in json.dumps(offer)

    # On the phone: take it, go, fix it; the complainant's number is there for the call-back.
    assert httpx.post(f"{server}/api/v1/work-orders/{order_id}/accept", headers=phone).status_code == 200
    detail = httpx.get(f"{server}/api/v1/work-orders/{order_id}", headers=phone).json()
    assert detail["reporter"] == {"contact": "13912345678"}
    assert (detail["location"]["building_unit"], detail["location"]["floor"]) == ("2单元", "12")
    for state, note in (("EN_ROUTE", None), ("ON_SITE", None), ("RESOLVED", "已劝阻，装修时间改为8-18点")):
        res = httpx.post(f"{server}/api/v1/work-orders/{order_id}/transition", headers=phone,
                         json={"to_state": state, "note": note})
        assert res.status_code == 200, res.text

    # The control room answers 12345 and records the call-back.
    for record, text in (("contact", "已电话联系投诉人"), ("closure", "已劝阻施工方，夜间停止作业")):
        res = httpx.post(f"{server}/api/v1/complaints/{order_id}/hotline/{record}", headers=operator,
                         json={"text": text})
        assert res.status_code == 200, res.text
    res = httpx.post(f"{server}/api/v1/complaints/{order_id}/satisfaction", headers=operator,
                     json={"rating": "satisfied", "note": "12345回访满意"})
    assert res.status_code == 200, res.text
    ticket = res.json()["hotline"]
    assert ticket["closed_at"] and ticket["replied_at"] and ticket["satisfaction"] == "satisfied"
    assert (ticket["owed"], ticket["overdue"]) == ([], [])
    timeline = httpx.get(f"{server}/api/v1/work-orders/{order_id}", headers=operator).json()["events"]
    assert [e["data"]["record"] for e in timeline if e["kind"] == "hotline"] == [
        "received", "contact", "closure", "satisfaction"]
