"""The public information board (notice clause 19), without sign-in."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.routers import public
from dashboard.security import Conn, optional_user
from dashboard.ui.alarm_detail import local_time
from dashboard.ui.homes import home_names
from dashboard.ui.rendering import render
from dashboard.users import User
from ingest import registry

router = APIRouter(include_in_schema=False)


@router.get("/board/{site_id}")
def board(site_id: str, request: Request, conn: Conn,
          user: Annotated[User | None, Depends(optional_user)]) -> HTMLResponse:
    """The public board (notice clause 19) without sign-in: phone-friendly, printable as an A4 poster. A signed-in
    reader (the public role lands here) gets the bar with the sign-out."""
    found = public.board_data(conn, site_id)
    zone = registry.site_timezone(conn, site_id)
    return render(request, "board.html", user, board=found, tz=zone, page="board", homes=home_names(conn, site_id),
                  when=lambda at: board_time(at, zone))


def board_time(at: datetime, zone: tzinfo) -> str:
    """A time on the board to the minute, in the estate's zone with its marker: ``2026-12-08 10:35 UTC+8`` (a reader
    elsewhere, or a photo of the poster, still knows which clock it is)."""
    stamp = local_time(at, zone)
    return f"{stamp[:16]} {stamp.rsplit(' ', 1)[1]}"
