"""Real image files made in memory: a PNG of any size (all black, 1 bit deep, so a huge one stays small), and
JPEG and WebP files with true headers."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int) -> bytes:
    """A valid black PNG, bit depth 1 grayscale; 30,000 × 30,000 compresses to about 110 KiB."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte 0, then the packed pixels
    squeeze = zlib.compressobj(9)
    rows_per_piece = max(1, (1 << 20) // len(row))
    pieces = [squeeze.compress(row * min(rows_per_piece, height - done))
              for done in range(0, height, rows_per_piece)]
    pieces.append(squeeze.flush())
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(pieces)) + _chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    """A baseline JPEG's segments up to its frame header (JFIF APP0, a quantisation table, SOF0), then EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(range(1, 65))
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + dqt + sof + b"\xff\xd9"


def webp_lossless(width: int, height: int) -> bytes:
    """A WebP container with a VP8L frame header of the given size."""
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
