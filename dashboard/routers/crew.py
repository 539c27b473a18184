"""Crew members over ``dispatch.crew``: register, list, change; availability from their shifts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import forbidden, not_found
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, require, scope_site
from dashboard.users import User
from dispatch import crew
from dispatch.crew import CrewChanges, CrewMember

router = APIRouter(prefix="/api/v1/crew", tags=["crew"])

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CREW_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
PHONE = r"^[0-9+][0-9 -]{2,31}$"


class ShiftIO(BaseModel):
    """A weekly shift in the member's time zone; an end not after the start runs into the next day."""

    model_config = ConfigDict(extra="forbid")
    days: list[Day] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=CLOCK, examples=["08:00"])
    end: str = Field(pattern=CLOCK, examples=["20:00"])


class CrewIn(BaseModel):
    """A new crew member. ``site_ids`` empty: the estates of the unit."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=CREW_ID)
    unit_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field("", pattern=r"^$|" + PHONE)
    skills: list[str] = Field(min_length=1, max_length=50)
    site_ids: list[str] = Field(default_factory=list, max_length=200)
    shifts: list[ShiftIO] = Field(default_factory=list, max_length=21)
    timezone: str = Field("Asia/Shanghai", min_length=1, max_length=64)
    on_shift: bool = False
    active: bool = True


class CrewPatch(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    unit_id: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, pattern=r"^$|" + PHONE)
    skills: list[str] | None = Field(None, min_length=1, max_length=50)
    site_ids: list[str] | None = Field(None, max_length=200)
    shifts: list[ShiftIO] | None = Field(None, max_length=21)
    timezone: str | None = Field(None, min_length=1, max_length=64)
    on_shift: bool | None = None
    active: bool | None = None


class CrewOut(BaseModel):
    """A crew member, whether they are available now, and the estates they cover (empty: every site)."""

    id: str
    unit_id: str
    name: str
    phone: str
    skills: list[str]
    site_ids: list[str]
    covers: list[str]
    shifts: list[ShiftIO]
    timezone: str
    on_shift: bool
    active: bool
    available_now: bool


def crew_out(conn: Conn, member: CrewMember, now: datetime) -> CrewOut:
    """The API form of a member at ``now``."""
    return CrewOut(
        id=member.id, unit_id=member.unit_id, name=member.name, phone=member.phone, skills=member.skills,
        site_ids=member.site_ids, covers=crew.covered_sites(conn, member),
        shifts=[ShiftIO(**s.to_json()) for s in member.shifts], timezone=member.timezone, on_shift=member.on_shift,
        active=member.active, available_now=member.available(now),
    )


def _manages(user: User, covers: list[str]) -> bool:
    """Admins manage every member; others those whose estates all lie in their scope."""
    return user.role in roles.ADMINS or (bool(covers) and set(covers) <= set(user.site_ids))


def _member_or_404(conn: Conn, crew_member_id: str, user: User) -> CrewMember:
    member = crew.get_crew_member(conn, crew_member_id)
    if member is None:
        raise not_found("crew member", crew_member_id)
    covers = crew.covered_sites(conn, member)
    if user.role not in roles.ADMINS and covers and not set(covers) & set(user.site_ids):
        raise forbidden("this crew member works outside your estates")
    return member


@router.get("", response_model=Page[CrewOut], summary="List crew members covering your estates")
def list_crew(
    conn: Conn,
    user: Annotated[User, Depends(require(roles.CONTROL_ROOM))],
    page: Annotated[Pagination, Depends(pagination)],
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    skill: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> Page[CrewOut]:
    """By id; ``available_now`` is read from each member's shifts and clock-in at the time of the request."""
    found, total = crew.page_crew(conn, sites=scope_site(user, site_id), unit_id=unit_id, active=active, skill=skill,
                                  limit=page.limit, offset=page.offset)
    now = datetime.now(UTC)
    return Page[CrewOut](items=[crew_out(conn, m, now) for m in found], total=total, limit=page.limit,
                         offset=page.offset)


@router.get("/{crew_member_id}", response_model=CrewOut, summary="One crew member")
def get_member(crew_member_id: str, conn: Conn,
               user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> CrewOut:
    """404 unknown, 403 when the member works only at estates outside yours."""
    return crew_out(conn, _member_or_404(conn, crew_member_id, user), datetime.now(UTC))


@router.post("", response_model=CrewOut, status_code=201, summary="Register a crew member")
def register(body: CrewIn, conn: Conn, user: Annotated[User, Depends(require(roles.HANDLERS))]) -> CrewOut:
    """409 when the id is taken; 422 for an unknown unit, estate or time zone, a bad shift, an estate the unit
    does not serve. Operators register members for their own estates (``site_ids`` within their scope)."""
    member = crew.new_member(**body.model_dump(exclude={"shifts"}), shifts=[s.model_dump() for s in body.shifts])
    if user.role not in roles.ADMINS and not (member.site_ids and set(member.site_ids) <= set(user.site_ids)):
        raise forbidden("name the estates of the member, all within your scope")
    crew.register_crew_member(conn, member, actor=user.username)
    audit.record(conn, user, "crew.register", "crew_member", member.id,
                 detail={"unit_id": member.unit_id, "site_ids": member.site_ids, "skills": member.skills})
    return crew_out(conn, member, datetime.now(UTC))


@router.patch("/{crew_member_id}", response_model=CrewOut, summary="Change a crew member (shifts, estates, active …)")
def change(crew_member_id: str, body: CrewPatch, conn: Conn,
           user: Annotated[User, Depends(require(roles.HANDLERS))]) -> CrewOut:
    """Only the fields sent change. Deactivate a member who left (``active: false``); orders keep naming them."""
    member = _member_or_404(conn, crew_member_id, user)
    if not _manages(user, crew.covered_sites(conn, member)):
        raise forbidden("this crew member also works at estates outside your scope")
    sent = body.model_dump(exclude_unset=True)
    if sent.get("shifts") is not None:
        sent["shifts"] = [s.model_dump() for s in body.shifts or []]
    updated = crew.update_crew_member(conn, crew_member_id, CrewChanges(**sent), actor=user.username)
    if not _manages(user, crew.covered_sites(conn, updated)):
        raise forbidden("the member's estates must stay within your scope")
    audit.record(conn, user, "crew.change", "crew_member", crew_member_id, detail=sent)
    return crew_out(conn, updated, datetime.now(UTC))
