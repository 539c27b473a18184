"""Delivery status per work order over the API: which notice went through which channel to whom, and how."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from dispatch.notify import deliver_pending, parse_config
from ingest.database import connect
from tests.dispatch.receivers import serve_http

from .world import World

Headers = Callable[[str], dict[str, str]]


def test_the_control_room_sees_each_notice_of_an_order_and_its_delivery(
    world: World, api: TestClient, as_role: Headers, trapped, order_for
) -> None:
    _, device_id = trapped()
    order_id = order_for(device_id)
    with serve_http() as receiver:
        receiver.fail_first = 10**6  # every POST fails: the first attempt is recorded, a retry scheduled
        router = parse_config(f"""
format: propwatch-notifications/1
channels: {{maint-hook: {{type: webhook, url: "{receiver.url}/h", secret_env: HOOK_SECRET}}}}
routes: [{{units: [elevator-maint], kinds: [opened], channels: [maint-hook]}}]
""", {"HOOK_SECRET": "s"})
        with connect(world.database_url, autocommit=True) as conn:
            # Every notice the package's earlier tests left is routed too (more than one call's default 100).
            deliver_pending(conn, router, now=datetime.now(UTC), limit=100_000)
    res = api.get(f"/api/v1/work-orders/{order_id}/notifications", headers=as_role("operator"))
    assert res.status_code == 200, res.text
    opened = next(n for n in res.json() if n["kind"] == "opened")
    [delivery] = opened["deliveries"]
    assert (delivery["channel"], delivery["channel_type"], delivery["state"], delivery["attempts"]) == (
        "maint-hook", "webhook", "pending", 1)
    assert delivery["last_error"] == "DeliveryFailed: HTTP 500"
    assert delivery["recipients"] == [{"kind": "unit", "id": "elevator-maint"}]
    assert opened["payload"]["order_id"] == order_id


def test_the_delivery_status_is_for_the_control_room_of_the_orders_estate(
    api: TestClient, as_role: Headers, trapped, order_for
) -> None:
    _, device_id = trapped()
    order_id = order_for(device_id)
    path = f"/api/v1/work-orders/{order_id}/notifications"
    assert api.get(path, headers=as_role("subdistrict")).status_code == 200
    assert api.get(path, headers=as_role("crew")).status_code == 403
    assert api.get(path, headers=as_role("owner")).status_code == 403
    outsider = api.post("/api/v1/auth/token", data={"username": "outsider", "password": "outsider-pass-1"})
    token = {"Authorization": f"Bearer {outsider.json()['access_token']}"}
    assert api.get(path, headers=token).status_code == 403
    assert api.get("/api/v1/work-orders/999999/notifications", headers=as_role("operator")).status_code == 404
