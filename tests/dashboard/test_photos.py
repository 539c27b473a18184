"""The photo upload through the app: content decides the type, pixels are bounded, a mismatch is 415."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .pictures import HTML, png


@pytest.fixture(scope="module")
def order(trapped, order_for) -> int:
    _, device_id = trapped()
    return order_for(device_id)


def _upload(api: TestClient, headers: dict[str, str], order: int, data: bytes, content_type: str):
    return api.post(f"/api/v1/work-orders/{order}/photos", headers=headers,
                    files={"photo": ("p.png", data, content_type)})


def test_a_real_png_is_stored(api: TestClient, as_role, order: int) -> None:
    res = _upload(api, as_role("operator"), order, png(640, 480), "image/png")
    assert res.status_code == 201 and res.json()["photo"]["content_type"] == "image/png"


def test_html_sent_as_a_png_is_415(api: TestClient, as_role, order: int) -> None:
    res = _upload(api, as_role("operator"), order, HTML, "image/png")
    assert res.status_code == 415 and res.json()["error"]["code"] == "unsupported_media_type"


def test_a_30000_by_30000_png_is_413_naming_its_size(api: TestClient, as_role, order: int) -> None:
    res = _upload(api, as_role("operator"), order, png(30_000, 30_000), "image/png")
    assert res.status_code == 413
    assert res.json()["error"]["details"]["width"] == 30_000


def test_a_type_outside_jpeg_png_webp_is_415(api: TestClient, as_role, order: int) -> None:
    res = _upload(api, as_role("operator"), order, b"GIF89a....", "image/gif")
    assert res.status_code == 415
