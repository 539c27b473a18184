"""Administration pages: the responsibility list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.ui.rendering import page_user, render
from dashboard.users import User

router = APIRouter(include_in_schema=False)


@router.get("/responsibility")
def responsibility(request: Request, user: Annotated[User, Depends(page_user(roles.CONTROL_ROOM))]) -> HTMLResponse:
    return render(request, "responsibility.html", user, page="responsibility")
