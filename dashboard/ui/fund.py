"""Maintenance-fund pages: approvals for the committee and the control room, the owner's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.security import Conn
from dashboard.ui.rendering import page_user, render
from dashboard.users import User
from dispatch.fund import ledger

router = APIRouter(include_in_schema=False)


@router.get("/fund-approvals")
def fund(request: Request, user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    return render(request, "fund.html", user, page="fund")

@router.get("/my-fund")
def my_fund(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """The owner's own fund account (notice clause 17: owners query in real time)."""
    balance, entries = None, []
    if user.household_id:
        balance = ledger.balance(conn, user.household_id)
        entries = ledger.history(conn, user.household_id)
    return render(request, "my_fund.html", user, page="my_fund", balance=balance, history=entries)
