"""Gateway health for the control room: device presence and dead letters (rejected messages)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from dashboard import roles
from dashboard.routers.common import Page
from dashboard.security import Conn, require, scope_site
from dashboard.users import User
from gateway import dead_letters, presence
from gateway.health import gateway_counts

router = APIRouter(prefix="/api/v1", tags=["estate"])


PREVIEW_CHARS = 1024


class DeadLetterOut(BaseModel):
    """A rejected message with a readable preview of the payload kept (its first bytes), not the bytes."""

    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload_size: int
    payload_preview: str = Field(description="The stored first bytes of the payload (at most 1 KiB) as UTF-8, "
                                             "undecodable bytes as U+FFFD, control and format characters escaped "
                                             "(\\n, \\x00, \\u202e); at most 1024 characters")
    site_id: str | None
    device_id: str | None

    @classmethod
    def of(cls, letter: dead_letters.DeadLetter) -> DeadLetterOut:
        """The output for one stored dead letter."""
        return cls(received_at=letter.received_at, topic=letter.topic, reason=letter.reason, detail=letter.detail,
                   payload_size=letter.payload_size, payload_preview=payload_preview(letter.payload),
                   site_id=letter.site_id, device_id=letter.device_id)


def payload_preview(payload: bytes) -> str:
    """``payload`` decoded as UTF-8 with replacement, every control, format or line-separator character escaped
    (a hostile device must not be able to reflow or reorder what the control room reads), cut to
    ``PREVIEW_CHARS``."""
    text = payload.decode("utf-8", errors="replace")
    shown = "".join(_escaped(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in text)
    return shown[:PREVIEW_CHARS]


_HIDDEN = {"Cc", "Cf", "Zl", "Zp"}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(ch: str) -> str:
    return _SHORT.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


class DeadLetterPage(Page[DeadLetterOut]):
    """Dead letters stored, and how many more the gateways counted without storing them."""

    suppressed: int = Field(description="Rejected messages beyond their device's dead-letter allowance that the "
                                        "gateways counted and did not store, since each last started; of every "
                                        "estate, reason and device the gateways serve")


@router.get("/presence", response_model=list[presence.Presence],
            summary="Online/offline state of every device that ever reported")
def list_presence(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                  site_id: Annotated[str | None, Query(max_length=64)] = None) -> list[presence.Presence]:
    """Ordered by device id within each site; limited to your sites."""
    sites = scope_site(user, site_id)
    found = presence.list_presence(conn) if sites is None else [
        p for site in sites for p in presence.list_presence(conn, site)]
    return found


@router.get("/dead-letters", response_model=DeadLetterPage,
            summary="Rejected device messages of your estates, newest first (control room)")
def list_dead_letters(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                      limit: Annotated[int, Query(ge=1, le=500)] = 50,
                      reason: Annotated[str | None, Query(max_length=64)] = None,
                      device_id: Annotated[str | None, Query(max_length=64)] = None,
                      site_id: Annotated[str | None, Query(max_length=64)] = None) -> DeadLetterPage:
    """Topic, reason, detail, payload size and a preview of the stored payload (``DeadLetterOut``). ``total``
    counts every dead letter of the reason (or all) in the estates listed: an operator's own, every one for admins
    (dead letters of a topic naming no registered site are theirs alone). ``suppressed`` counts the rejected
    messages the gateways did not store (beyond a device's allowance): the gateways do not record whose, so it is
    one figure for all."""
    sites = scope_site(user, site_id)
    found = dead_letters.list_dead_letters(conn, limit=limit, reason=reason, device_id=device_id, sites=sites)
    counts = dead_letters.count_by_reason(conn, sites=sites)
    total = counts.get(reason, 0) if reason else sum(counts.values())
    suppressed = sum(c.dead_letters_suppressed for c in gateway_counts(conn))
    return DeadLetterPage(items=[DeadLetterOut.of(d) for d in found], total=total, limit=limit,
                          offset=0, suppressed=suppressed)


@router.get("/dead-letters/reasons", summary="How many dead letters each rejection reason has (control room)")
def dead_letter_reasons(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
                        site_id: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, int]:
    return dead_letters.count_by_reason(conn, sites=scope_site(user, site_id))
