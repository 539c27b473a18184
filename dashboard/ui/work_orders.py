"""The work-order board and pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.security import Conn
from dashboard.ui.rendering import page_user, render
from dashboard.users import User
from ingest import registry
from rules.categories import categories

router = APIRouter(include_in_schema=False)


@router.get("/work-orders")
def work_orders(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.OVERSIGHT))]) -> HTMLResponse:
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    return render(request, "work_orders.html", user, page="work_orders", categories=list(categories().values()),
                  sites=sites)
