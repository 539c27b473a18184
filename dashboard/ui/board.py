"""The public information board (notice clause 19), without sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard.routers import public
from dashboard.security import Conn
from dashboard.ui.rendering import render
from ingest import registry

router = APIRouter(include_in_schema=False)


@router.get("/board/{site_id}")
def board(site_id: str, request: Request, conn: Conn) -> HTMLResponse:
    """The public board (notice clause 19) without sign-in: phone-friendly, printable as an A4 poster."""
    found = public.board_data(conn, site_id)
    return render(request, "board.html", None, board=found, tz=registry.site_timezone(conn, site_id), page="board")
