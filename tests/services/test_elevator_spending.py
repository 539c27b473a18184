"""Elevator maintenance spending on the public board (notice clause 19): what elevator repairs actually cost."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.dashboard.world import verify_repair


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
