"""User administration (admins only). Every change is audited; passwords never leave the server."""

from __future__ import annotations

import secrets
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.errors import ApiError
from dashboard.roles import Role
from dashboard.routers.auth import UserOut
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, require
from dashboard.users import User, create_user, get_user, list_users, set_active, set_password

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


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class NewPassword(BaseModel):
    """A one-time password: shown to the admin once, to hand over; it is stored only as its hash."""

    username: str
    password: str


@router.patch("/{user_id}", response_model=UserOut, summary="Deactivate or reactivate a user")
def change_active(user_id: int, body: ActiveIn, conn: Conn,
                  admin: Annotated[User, Depends(require(roles.ADMINS))]) -> UserOut:
    """Deactivating ends the user's sessions and refuses their sign-ins; 404 for an unknown user, 409 for
    deactivating yourself (the last way back in could be lost)."""
    if user_id == admin.id and not body.active:
        raise ApiError(409, "conflict", "you cannot deactivate yourself", {"field": "active"})
    user = set_active(conn, user_id, body.active)
    if user is None:
        raise ApiError(404, "not_found", f"no user {user_id}")
    audit.record(conn, admin, "user.reactivate" if body.active else "user.deactivate", "user", str(user_id))
    return UserOut.of(user)


@router.post("/{user_id}/password", response_model=NewPassword, summary="Reset a user's password")
def reset_password(user_id: int, conn: Conn, admin: Annotated[User, Depends(require(roles.ADMINS))]) -> NewPassword:
    """A new random password, answered once; the user's sessions end. 404 for an unknown user."""
    user = get_user(conn, user_id)
    if user is None:
        raise ApiError(404, "not_found", f"no user {user_id}")
    password = secrets.token_urlsafe(12)
    set_password(conn, user.username, password)
    audit.record(conn, admin, "user.password_reset", "user", str(user_id))
    return NewPassword(username=user.username, password=password)
