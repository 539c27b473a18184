"""Home services and board upkeep: the owner's bookings, the service desk, the board's items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import roles
from dashboard.errors import ApiError
from dashboard.i18n import translate
from dashboard.security import (
    Conn,
    scope_site,
)
from dashboard.ui.homes import household_labels
from dashboard.ui.rendering import lang_of, page_user, render
from dashboard.users import User
from dispatch.fund import estate as fund_estate
from ingest import registry
from services import board as board_store
from services import bookings, catalog, slots

router = APIRouter(include_in_schema=False)


@router.get("/my-services")
def my_services(request: Request, conn: Conn,
                user: Annotated[User, Depends(page_user(roles.OWNERS))]) -> HTMLResponse:
    """An owner's home-service bookings (notice clause 15): the estate's bookable services and their own."""
    household = fund_estate.get_household(conn, user.household_id) if user.household_id else None
    if household is None:
        return render(request, "my_services.html", user, page="my_services", services=[], bookings=[],
                      tz=UTC, today="", utc_offset="Z")
    offered = [s for s in catalog.list_services(conn, household.site_id, kinds=("extra",), published_only=True)
               if s.bookable and s.price is not None]
    zone = registry.site_timezone(conn, household.site_id)
    now = datetime.now(zone)
    return render(request, "my_services.html", user, page="my_services", services=offered,
                  hours={s.id: [f"{h:g}" for h in slots.offered_hours(s.unit or "", s.min_slot_minutes)]
                         for s in offered},
                  bookings=bookings.list_bookings(conn, household_id=household.id), tz=zone,
                  today=now.date().isoformat(), utc_offset=now.isoformat()[-6:])


@router.get("/service-desk")
def service_desk(request: Request, conn: Conn,
                 user: Annotated[User, Depends(page_user(roles.PUBLISHERS))]) -> HTMLResponse:
    """The service centre's view of home-service bookings of the operator's estates: confirm, done, cancel."""
    found = bookings.list_bookings(conn, site_ids=scope_site(user, None), limit=200)
    sites = {b.site_id for b in found}
    zones = {site: registry.site_timezone(conn, site) for site in sites}
    lang = lang_of(request)
    homes = {k: v for site in sites for k, v in household_labels(conn, site, lang).items()}
    return render(request, "service_desk.html", user, page="service_desk", bookings=found, zones=zones, homes=homes)


@router.get("/board-items")
def board_items(request: Request, conn: Conn, user: Annotated[User, Depends(page_user(roles.PUBLISHERS))],
                site_id: str | None = None) -> HTMLResponse:
    """Upkeep of the public board's items of one of the operator's estates: parking, apportionment, fee
    statements, price adjustments (each form calls the services API, which audits it)."""
    sites = [s for s in registry.list_sites(conn) if user.sees_site(s.id)]
    if not sites:
        raise ApiError(404, "not_found", translate("no_board", lang_of(request)))
    chosen = site_id if site_id in {s.id for s in sites} else sites[0].id
    return render(request, "board_items.html", user, page="board_items", sites=sites, site_id=chosen,
                  parking=board_store.get_parking(conn, chosen), services=catalog.list_services(conn, chosen))
