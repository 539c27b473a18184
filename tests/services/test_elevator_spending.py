"""Elevator maintenance spending on the public board (notice clause 19): what elevator repairs actually cost."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from dispatch.workorders import transition
from ingest.database import connect
from tests.dashboard.world import on_site, open_emergency_draw, verify_repair


def _spending(api: TestClient, site_id: str) -> dict:
    return api.get(f"/api/v1/public/sites/{site_id}/board").json()["sections"]["elevator_spending"]


def test_a_350_yuan_elevator_repair_appears_in_the_months_and_the_years_spending(world, api: TestClient, trapped,
                                                                                 order_for) -> None:
    before = _spending(api, world.site_id)
    _, device_id = trapped()
    verify_repair(world, order_for(device_id), "350.00")
    after = _spending(api, world.site_id)
    assert Decimal(after["month_total"]) - Decimal(before["month_total"]) == Decimal("350.00")
    assert Decimal(after["year_total"]) - Decimal(before["year_total"]) == Decimal("350.00")
    assert after["repairs"] == before["repairs"] + 1
    month = next(m for m in after["months"] if m["month"] == after["month"])
    assert Decimal(month["work_orders"]) >= Decimal("350.00")


def test_a_repair_paid_from_the_fund_is_counted_once(world, api: TestClient, as_role, trapped, order_for) -> None:
    before = _spending(api, world.site_id)
    _, device_id = trapped()
    order_id = order_for(device_id)
    draw_id = open_emergency_draw(world, estimate="1200.00", order_id=order_id)
    assert api.post(f"/api/v1/fund/draws/{draw_id}/approve", json={"comment": "同意"},
                    headers=as_role("committee")).status_code == 200
    verify_repair(world, order_id, "1180.00")
    assert api.post(f"/api/v1/fund/draws/{draw_id}/complete", json={}, headers=as_role("operator")).status_code == 200
    after = _spending(api, world.site_id)
    assert Decimal(after["year_total"]) - Decimal(before["year_total"]) == Decimal("1180.00")
    assert after["year_fund_draws"] == before["year_fund_draws"]


def test_a_repair_not_yet_accepted_is_not_counted(world, api: TestClient, trapped, order_for) -> None:
    before = _spending(api, world.site_id)
    _, device_id = trapped()
    order_id = order_for(device_id)
    on_site(world, order_id)
    with connect(world.database_url) as conn:
        transition(conn, order_id, "RESOLVED", actor=f"crew:{world.crew_member_id}", cost=Decimal("90.00"))
        conn.commit()
    assert _spending(api, world.site_id)["year_total"] == before["year_total"]
