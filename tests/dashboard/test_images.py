"""Photos are judged by their bytes: type from the header, size in bytes and in pixels, before anything decodes."""

from __future__ import annotations

import time

import pytest

from dashboard import images
from dashboard.errors import ApiError

from .pictures import HTML, jpeg, png, webp_lossless


@pytest.mark.parametrize(("data", "kind", "size"), [
    (png(640, 480), "image/png", (640, 480)),
    (jpeg(4032, 3024), "image/jpeg", (4032, 3024)),
    (webp_lossless(1080, 1920), "image/webp", (1080, 1920)),
])
def test_the_header_gives_type_and_size(data: bytes, kind: str, size: tuple[int, int]) -> None:
    assert images.inspect(data) == images.ImageInfo(kind, *size)


def test_a_phone_photo_passes() -> None:
    photo = images.verify(jpeg(8000, 6000), "image/jpeg")
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 8000, 6000)


def test_a_30000_by_30000_png_is_refused_as_too_large_without_being_decoded() -> None:
    bomb = png(30_000, 30_000)
    assert len(bomb) < images.MAX_PHOTO_BYTES
    started = time.perf_counter()
    with pytest.raises(ApiError) as refused:
        images.verify(bomb, "image/png")
    assert time.perf_counter() - started < 0.5
    assert refused.value.status == 413 and "30000 × 30000" in refused.value.message


def test_html_sent_as_png_is_an_unsupported_media_type() -> None:
    with pytest.raises(ApiError) as refused:
        images.verify(HTML, "image/png")
    assert refused.value.status == 415 and refused.value.code == "unsupported_media_type"


def test_a_png_sent_as_jpeg_is_an_unsupported_media_type() -> None:
    with pytest.raises(ApiError) as refused:
        images.verify(png(10, 10), "image/jpeg")
    assert refused.value.status == 415 and "image/png but was sent as image/jpeg" in refused.value.message


def test_a_png_with_a_corrupt_header_is_refused() -> None:
    data = bytearray(png(10, 10))
    data[17] ^= 0xFF  # width changed, checksum not
    with pytest.raises(ApiError) as refused:
        images.verify(bytes(data), "image/png")
    assert refused.value.status == 415 and "corrupt" in refused.value.message


def test_a_jpeg_cut_before_its_frame_header_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        images.verify(jpeg(100, 100)[:40], "image/jpeg")
    assert refused.value.status == 415


def test_an_empty_photo_is_invalid() -> None:
    with pytest.raises(ApiError) as refused:
        images.verify(b"", "image/png")
    assert refused.value.status == 422


def test_bytes_past_the_limit_are_too_large() -> None:
    with pytest.raises(ApiError) as refused:
        images.verify(png(10, 10) + b"\x00" * images.MAX_PHOTO_BYTES, "image/png")
    assert refused.value.status == 413
