"""API tokens: OAuth2 password form in, bearer token out; who am I; revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from dashboard.errors import ApiError
from dashboard.security import BEARER_TTL, Conn, current_user, sign_in, sign_out
from dashboard.users import User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    site_ids: list[str]
    crew_member_id: str | None = None
    unit_id: str | None = None
    household_id: str | None = None
    active: bool = True

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, role=user.role, display_name=user.display_name,
                   site_ids=user.site_ids, crew_member_id=user.crew_member_id, unit_id=user.unit_id,
                   household_id=user.household_id, active=user.active)


@router.post("/token", response_model=TokenOut, summary="Exchange username and password for a bearer token")
def token(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    """OAuth2 password grant (form fields ``username`` and ``password``). 401 on bad credentials; 429 with
    ``Retry-After`` while failures from your address have to wait (docs/api.md, "Sign-in throttling")."""
    signed = sign_in(request, username, password, via="token")
    if signed is None:
        raise ApiError(401, "bad_credentials", "wrong username or password")
    return TokenOut(access_token=signed.token, expires_in=int(BEARER_TTL.total_seconds()))


@router.get("/me", response_model=UserOut, summary="The signed-in user")
def me(user: Annotated[User, Depends(current_user)]) -> UserOut:
    """Role, scope and links of the caller."""
    return UserOut.of(user)


@router.post("/logout", status_code=204, summary="Revoke the bearer token used for this call")
def logout(request: Request, conn: Conn, user: Annotated[User, Depends(current_user)]) -> None:
    """The token stops working at once; the sign-out is audited."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        sign_out(request, conn, user, value.strip(), via="token")
