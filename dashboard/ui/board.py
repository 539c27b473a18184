"""The public information board (notice clause 19), without sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard.routers import public
from dashboard.security import Conn, optional_user
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
    return render(request, "board.html", user, board=found, tz=registry.site_timezone(conn, site_id), page="board",
                  homes=home_names(conn, site_id))
