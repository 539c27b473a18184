"""The crew app, phone-sized."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.ui.rendering import page_user, render
from dashboard.users import User

router = APIRouter(include_in_schema=False)


@router.get("/crew")
def crew(request: Request, user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    return render(request, "crew.html", user, page="crew")


@router.get("/crew/orders/{order_id}")
def crew_order(order_id: int, request: Request,
               user: Annotated[User, Depends(page_user(roles.CREW))]) -> HTMLResponse:
    return render(request, "crew_order.html", user, page="crew", order_id=order_id)
