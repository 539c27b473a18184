"""PostgreSQL's binary ``COPY`` format, encoded with ``struct`` for the writer's two staging tables.

psycopg's generic dumpers adapt arrays element by element in Python, which cost ~25 µs per staged row of
three short arrays here; packing each field with precompiled ``struct`` packers costs ~3 µs per array
(docs/ingest.md, "Write path"). The format is documented in the PostgreSQL manual (COPY,
"Binary Format"; array_send and timestamptz_send for the field layouts).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # flags 0, no header extension
TRAILER = struct.pack("!h", -1)
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

FLOAT8_OID, TIMESTAMPTZ_OID = 701, 1184
# Each element is its length, then its value; NULL is length -1 and no value.
_ELEMENTS = {
    FLOAT8_OID: (struct.Struct("!id").pack, 8),
    TIMESTAMPTZ_OID: (struct.Struct("!iq").pack, 8),
}
_NULL = struct.pack("!i", -1)
_ARRAY_HEADER = struct.Struct("!iiiiii")
_FIELD_COUNT = struct.Struct("!h")
_LENGTH = struct.Struct("!i")
_TIMESTAMPTZ = struct.Struct("!iq")
_INT4 = struct.Struct("!ii")
_INT8 = struct.Struct("!iq")


def postgres_timestamp(ts: datetime) -> int:
    """Microseconds since 2000-01-01 UTC, PostgreSQL's internal timestamptz (exact, no float rounding)."""
    return (ts - POSTGRES_EPOCH) // MICROSECOND


class RowEncoder:
    """Encodes fields and rows; caches text fields (bounded by the number of devices, small and stable).

    Not thread-safe: one writer owns it.
    """

    def __init__(self) -> None:
        self._texts: dict[str, bytes] = {}

    def row(self, *fields: bytes) -> bytes:
        """One tuple from already encoded fields."""
        return _FIELD_COUNT.pack(len(fields)) + b"".join(fields)

    def text(self, value: str) -> bytes:
        """A text field."""
        encoded = self._texts.get(value)
        if encoded is None:
            data = value.encode()
            encoded = self._texts[value] = _LENGTH.pack(len(data)) + data
        return encoded

    def integer(self, value: int) -> bytes:
        """An int4 field."""
        return _INT4.pack(4, value)

    def bigint(self, value: int) -> bytes:
        """An int8 field."""
        return _INT8.pack(8, value)

    def timestamptz(self, microseconds: int) -> bytes:
        """A timestamptz field from ``postgres_timestamp``."""
        return _TIMESTAMPTZ.pack(8, microseconds)

    def timestamptz_array_like(self, microseconds: int, values: Sequence[float | None]) -> bytes:
        """A timestamptz array as long as ``values``: ``microseconds`` where ``values`` has a value, NULL
        where it has none (the instants of one stored row's values, without packing each element)."""
        element = _TIMESTAMPTZ.pack(8, microseconds)
        nulls = None in values
        body = b"".join([_NULL if v is None else element for v in values]) if nulls else element * len(values)
        return _ARRAY_HEADER.pack(20 + len(body), 1, nulls, TIMESTAMPTZ_OID, len(values), 1) + body

    def array(self, oid: int, values: Sequence[float | int | None]) -> bytes:
        """A one-dimensional array field of float8 or timestamptz (as ``postgres_timestamp``)."""
        element, size = _ELEMENTS[oid]
        if None in values:
            body = b"".join([_NULL if v is None else element(size, v) for v in values])
        else:
            body = b"".join(map(element, repeat(size), values))
        # Field length, then ndim, has-nulls flag, element type, length, lower bound.
        return _ARRAY_HEADER.pack(20 + len(body), 1, None in values, oid, len(values), 1) + body
