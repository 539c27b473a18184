"""The owner's home-service page, the service desk and the board upkeep page: who may open them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ROLES = ("admin", "operator", "crew", "committee", "subdistrict", "owner", "public")


@pytest.mark.parametrize(("path", "allowed"), [("/my-services", {"owner"}), ("/service-desk", {"admin", "operator"}),
                                              ("/board-items", {"admin", "operator"})])
def test_only_its_roles_open_the_page(api: TestClient, as_role, path: str, allowed: set[str]) -> None:
    answers = {role: api.get(path, headers=as_role(role), follow_redirects=False).status_code for role in ROLES}
    assert answers == {role: 200 if role in allowed else 403 for role in ROLES}
    assert api.get(path, follow_redirects=False).status_code == 303


def test_the_owner_sees_the_bookable_services_with_their_prices(api: TestClient, as_role) -> None:
    page = api.get("/my-services", headers=as_role("owner")).text
    assert "家政保洁 · ¥45.00 元/小时" in page and "公共区域保洁" not in page
