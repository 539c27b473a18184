"""The responsibility list (事件部件处置权责清单): view for operators, edit for admins (``dispatch.responsibility``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict

from dashboard import audit, roles
from dashboard.security import Conn, require
from dashboard.users import User
from dispatch import responsibility, units

router = APIRouter(prefix="/api/v1", tags=["work-orders"])


class ResponsibilityOut(BaseModel):
    """The current version: its YAML text and the parsed items and units (``None``/empty before any import)."""

    version: int | None
    document: str | None
    items: list[dict[str, Any]]
    units: list[dict[str, Any]]


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    name: str
    name_en: str | None
    site_ids: list[str]
    contacts: dict[str, Any]


def _current(conn: Conn) -> ResponsibilityOut:
    version = responsibility.current_version(conn)
    if version is None:
        return ResponsibilityOut(version=None, document=None, items=[], units=[])
    text = responsibility.export_list(conn)
    doc = responsibility.to_document(responsibility.parse_list(text))
    return ResponsibilityOut(version=version, document=text, items=doc["items"], units=doc["units"])


@router.get("/responsibility", response_model=ResponsibilityOut, summary="The current responsibility list")
def export(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> ResponsibilityOut:
    """``version``, the YAML ``document`` and its parsed ``items`` and ``units``."""
    return _current(conn)


@router.put("/responsibility", response_model=ResponsibilityOut,
            summary="Replace the responsibility list (a new version)")
def replace(conn: Conn, user: Annotated[User, Depends(require(roles.ADMINS))],
            body: Annotated[dict[str, Any], Body(description='{"document": "<YAML text>"} or the document itself')]
            ) -> ResponsibilityOut:
    """Validated by ``parse_list``; 422 naming the lines of every problem."""
    source: str | dict[str, Any] = body["document"] if isinstance(body.get("document"), str) else body
    parsed = responsibility.parse_list(source)
    version = responsibility.import_list(conn, parsed, actor=user.username)
    audit.record(conn, user, "responsibility.replace", "responsibility_list", str(version),
                 detail={"items": len(parsed.items), "units": len(parsed.units)})
    return _current(conn)


@router.get("/units", response_model=list[UnitOut],
            summary="Responsible units (maintenance companies, utilities, sub-district offices)")
def list_units(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[UnitOut]:
    """Units serving every site, and those serving one of yours (admins: all)."""
    return [UnitOut.model_validate(u) for u in units.list_units(conn)
            if user.role in roles.ADMINS or not u.site_ids or set(u.site_ids) & set(user.site_ids)]
