"""The responsibility list (事件部件处置权责清单): view for operators; for admins, edit as data: check against its
schema, review the diff, save as a new version (``dispatch.responsibility``, ``dispatch.responsibility_edits``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from dashboard import audit, roles
from dashboard.security import Conn, require
from dashboard.users import User
from dispatch import responsibility, responsibility_edits, units

router = APIRouter(prefix="/api/v1", tags=["work-orders"])


class ResponsibilityOut(BaseModel):
    """The current version: its YAML text, the same as a JSON ``body`` to edit, and the parsed items and units
    (``None``/empty before any import)."""

    version: int | None
    document: str | None
    body: dict[str, Any] | None
    items: list[dict[str, Any]]
    units: list[dict[str, Any]]


class EditIn(BaseModel):
    """An edit of the whole list: YAML text or the JSON document, and the version it was made from."""

    model_config = ConfigDict(extra="forbid")
    document: str | dict[str, Any] = Field(description="YAML text, or the document as JSON (``body`` of GET)")
    base_version: int | None = Field(None, description="the version the edit started from; required to save")


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    op: str
    section: str
    key: str
    fields: dict[str, dict[str, Any]]


class ReviewOut(BaseModel):
    """What saving the edit would do: ``problems`` (each with its line or JSON path) or the ``changes``."""

    valid: bool
    base_version: int | None
    problems: list[str]
    changes: list[ChangeOut]


class SavedOut(ResponsibilityOut):
    changes: list[ChangeOut]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    imported_at: datetime
    imported_by: str
    items: int


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
        return ResponsibilityOut(version=None, document=None, body=None, items=[], units=[])
    body = responsibility_edits.version_document(conn, version)
    return ResponsibilityOut(version=version, document=responsibility.export_list(conn), body=body,
                             items=body["items"], units=body["units"])


@router.get("/responsibility", response_model=ResponsibilityOut, summary="The current responsibility list")
def export(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> ResponsibilityOut:
    """``version``, the YAML ``document``, the JSON ``body`` and its ``items`` and ``units``."""
    return _current(conn)


@router.get("/responsibility/schema", summary="The JSON schema of the responsibility list")
def schema(user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> dict[str, Any]:
    """Draft 2020-12. Whole-list rules (gaps, overlaps, known categories and units) are checked on review."""
    return responsibility_edits.schema()


@router.post("/responsibility/review", response_model=ReviewOut,
             summary="Check an edit and show what saving it would change")
def review(body: EditIn, conn: Conn, user: Annotated[User, Depends(require(roles.ADMINS))]) -> ReviewOut:
    """Always 200: ``valid`` false with every problem (line or JSON path), or the changes against the current
    version (``base_version``), to show before saving."""
    checked = responsibility_edits.review(conn, body.document)
    return ReviewOut(valid=checked.valid, base_version=checked.base_version, problems=checked.problems,
                     changes=[ChangeOut.model_validate(c) for c in checked.changes])


@router.put("/responsibility", response_model=SavedOut, summary="Save an edit of the list as a new version")
def replace(body: EditIn, conn: Conn, user: Annotated[User, Depends(require(roles.ADMINS))]) -> SavedOut:
    """``base_version`` must be the current version (409 when someone saved since: review again); 422 naming
    every problem. An edit identical to the current version saves nothing. Any other field in the body is 422,
    never ignored."""
    checked = responsibility_edits.review(conn, body.document)
    version = responsibility_edits.save(conn, body.document, base_version=body.base_version, actor=user.username)
    audit.record(conn, user, "responsibility.replace", "responsibility_list", str(version),
                 detail={"base_version": body.base_version, "changes": len(checked.changes)})
    return SavedOut(**_current(conn).model_dump(), changes=[ChangeOut.model_validate(c) for c in checked.changes])


@router.get("/responsibility/versions", response_model=list[VersionOut], summary="Every saved version")
def versions(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[VersionOut]:
    """Newest first: who saved it, when, how many items."""
    return [VersionOut.model_validate(v) for v in responsibility_edits.list_versions(conn)]


@router.get("/responsibility/versions/{version}", response_model=dict[str, Any], summary="One saved version")
def version(version: int, conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> dict[str, Any]:
    """The document as it was saved; 404 for a version that does not exist."""
    return responsibility_edits.version_document(conn, version)


@router.get("/units", response_model=list[UnitOut],
            summary="Responsible units (maintenance companies, utilities, sub-district offices)")
def list_units(conn: Conn, user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[UnitOut]:
    """Units serving every site, and those serving one of yours (admins: all)."""
    return [UnitOut.model_validate(u) for u in units.list_units(conn)
            if user.role in roles.ADMINS or not u.site_ids or set(u.site_ids) & set(user.site_ids)]
