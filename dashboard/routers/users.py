"""User administration (admins only). Every change is audited; passwords never leave the server."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from dashboard import audit, roles
from dashboard.errors import ApiError
from dashboard.roles import Role
from dashboard.routers.auth import UserOut
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, require
from dashboard.users import User, create_user, list_users

router = APIRouter(prefix="/api/v1/users", tags=["auth"])


class UserIn(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str = Field(min_length=1, max_length=100)
    site_ids: list[str] = Field(default_factory=list, max_length=200)
    crew_member_id: str | None = Field(None, max_length=64)
    unit_id: str | None = Field(None, max_length=64)
    household_id: str | None = Field(None, max_length=64)


@router.get("", response_model=Page[UserOut], summary="List users")
def users(conn: Conn, _: Annotated[User, Depends(require(roles.ADMINS))],
          page: Annotated[Pagination, Depends(pagination)], role: Annotated[Role | None, Query()] = None
          ) -> Page[UserOut]:
    found, total = list_users(conn, role=role, limit=page.limit, offset=page.offset)
    return Page[UserOut](items=[UserOut.of(u) for u in found], total=total, limit=page.limit, offset=page.offset)


@router.post("", response_model=UserOut, status_code=201, summary="Create a user")
def add_user(body: UserIn, conn: Conn, admin: Annotated[User, Depends(require(roles.ADMINS))]) -> UserOut:
    """409 when the username is taken; 422 naming ``site_ids`` when a site does not exist."""
    try:
        user = create_user(conn, username=body.username, password=body.password, role=body.role,
                           display_name=body.display_name, site_ids=body.site_ids,
                           crew_member_id=body.crew_member_id, unit_id=body.unit_id,
                           household_id=body.household_id)
    except psycopg.errors.UniqueViolation as exc:
        raise ApiError(409, "conflict", "username already taken", {"field": "username"}) from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise ApiError(422, "invalid", "site_ids names a site that does not exist", {"field": "site_ids"}) from exc
    audit.record(conn, admin, "user.create", "user", str(user.id),
                 detail={"role": user.role, "site_ids": user.site_ids})
    return UserOut.of(user)
