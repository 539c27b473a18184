"""A work order's photo read back through the API: the bytes as uploaded, for whoever may read the order."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .pictures import png


@pytest.fixture(scope="module")
def orders(trapped, order_for) -> tuple[int, int]:
    """Two orders of the estate: the photo belongs to the first."""
    return order_for(trapped()[1]), order_for(trapped()[1])


@pytest.fixture(scope="module")
def photo(api: TestClient, as_role, orders: tuple[int, int]) -> tuple[int, bytes]:
    data = png(32, 24)
    res = api.post(f"/api/v1/work-orders/{orders[0]}/photos", headers=as_role("operator"),
                   files={"photo": ("p.png", data, "image/png")})
    assert res.status_code == 201, res.text
    return res.json()["photo"]["id"], data


def test_the_committee_reads_the_photo_as_uploaded(api: TestClient, as_role, orders, photo) -> None:
    res = api.get(f"/api/v1/work-orders/{orders[0]}/photos/{photo[0]}", headers=as_role("committee"))
    assert res.status_code == 200
    assert (res.headers["content-type"], res.content) == ("image/png", photo[1])


def test_the_photo_is_never_sniffed_as_another_type(api: TestClient, as_role, orders, photo) -> None:
    res = api.get(f"/api/v1/work-orders/{orders[0]}/photos/{photo[0]}", headers=as_role("operator"))
    assert res.headers["x-content-type-options"] == "nosniff"


def test_a_photo_asked_for_under_another_order_is_404(api: TestClient, as_role, orders, photo) -> None:
    res = api.get(f"/api/v1/work-orders/{orders[1]}/photos/{photo[0]}", headers=as_role("operator"))
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"
