"""Photo uploads verified by their content: JPEG, PNG or WebP as the bytes say, bounded in bytes and in pixels.

The declared content type is only a claim; the type is read from the file's own header, and the header's
dimensions are checked before anything decodes the image, so a small file that would expand to gigabytes of
pixels (a 30,000 × 30,000 PNG compresses to a few hundred KiB) is refused. Nothing here decodes pixel data.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from fastapi import UploadFile

from dashboard.errors import ApiError

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIDE = 16_384
MAX_PIXELS = 64_000_000
"""A 64-megapixel phone photo passes; 30,000 × 30,000 (900 megapixels, 3.6 GB as RGBA) does not."""
ACCEPTED = ("image/jpeg", "image/png", "image/webp")


class NotAnImage(ValueError):
    """The bytes are not a well-formed JPEG, PNG or WebP header."""


@dataclass(frozen=True)
class ImageInfo:
    """What an image's header says."""

    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Photo:
    """An upload that passed every check."""

    data: bytes
    content_type: str
    width: int
    height: int


def inspect(data: bytes) -> ImageInfo:
    """The type and dimensions an image's header gives; ``NotAnImage`` when it is none of the three."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageInfo("image/png", *_png_size(data))
    if data.startswith(b"\xff\xd8\xff"):
        return ImageInfo("image/jpeg", *_jpeg_size(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageInfo("image/webp", *_webp_size(data))
    raise NotAnImage("the content is not a JPEG, PNG or WebP image")


def verify(data: bytes, declared: str | None, *, max_bytes: int = MAX_PHOTO_BYTES) -> Photo:
    """``data`` as a photo: 422 when empty, 413 when over ``max_bytes`` or the pixel bounds, 415 when it is not
    an image of an accepted type or not the type ``declared``."""
    if not data:
        raise ApiError(422, "invalid", "the photo is empty", {"field": "photo"})
    if len(data) > max_bytes:
        raise ApiError(413, "too_large", f"the photo is larger than {max_bytes} bytes", {"limit": max_bytes})
    if declared not in ACCEPTED:
        raise ApiError(415, "unsupported_media_type", "photos must be JPEG, PNG or WebP",
                       {"accepted": list(ACCEPTED), "declared": declared})
    try:
        info = inspect(data)
    except NotAnImage as exc:
        raise ApiError(415, "unsupported_media_type", f"{exc}; it was sent as {declared}",
                       {"accepted": list(ACCEPTED), "declared": declared}) from exc
    if info.content_type != declared:
        raise ApiError(415, "unsupported_media_type", f"the file is {info.content_type} but was sent as {declared}",
                       {"detected": info.content_type, "declared": declared})
    if max(info.width, info.height) > MAX_SIDE or info.width * info.height > MAX_PIXELS:
        raise ApiError(413, "too_large", f"the image is {info.width} × {info.height} pixels; the limit is "
                       f"{MAX_SIDE} pixels a side and {MAX_PIXELS:,} in all",
                       {"width": info.width, "height": info.height, "max_side": MAX_SIDE, "max_pixels": MAX_PIXELS})
    return Photo(data, info.content_type, info.width, info.height)


def read_photo(upload: UploadFile, *, max_bytes: int = MAX_PHOTO_BYTES) -> Photo:
    """Read an uploaded photo (at most ``max_bytes`` + 1 bytes of it) and ``verify`` it."""
    upload.file.seek(0)
    return verify(upload.file.read(max_bytes + 1), upload.content_type, max_bytes=max_bytes)


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\rIHDR":
        raise NotAnImage("the PNG has no header chunk")
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        raise NotAnImage("the PNG header chunk is corrupt")
    width, height = struct.unpack(">II", data[16:24])
    return _positive(width, height)


# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (reserved) and CC (DAC) share the range but do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise NotAnImage("the JPEG's segments are malformed")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            break
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if length < 2:
            raise NotAnImage("the JPEG's segments are malformed")
        if marker in _SOF:
            if at + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return _positive(width, height)
        at += 2 + length
    raise NotAnImage("the JPEG has no frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return _positive(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = struct.unpack("<I", data[21:25])[0]
        return _positive((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _positive(width, height)
    raise NotAnImage("the WebP has no readable frame header")


def _positive(width: int, height: int) -> tuple[int, int]:
    if width <= 0 or height <= 0:
        raise NotAnImage("the image header gives no size")
    return width, height
