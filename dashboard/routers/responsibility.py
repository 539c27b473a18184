"""The responsibility list (事件部件处置权责清单): view for operators, edit for admins (``dispatch.responsibility``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from dashboard import audit
from dashboard.errors import ApiError
from dashboard.routers.common import dependency, plain
from dashboard.security import Conn, require
from dashboard.users import User

router = APIRouter(prefix="/api/v1", tags=["work-orders"])


def _current(conn: Conn) -> dict[str, Any]:
    resp = dependency("dispatch.responsibility")
    version = resp.current_version(conn)
    if version is None:
        return {"version": None, "document": None, "items": [], "units": []}
    text = resp.export_list(conn)
    doc = resp.to_document(resp.parse_list(text))
    return {"version": version, "document": text, "items": plain(doc["items"]), "units": plain(doc["units"])}


@router.get("/responsibility", summary="The current responsibility list")
def export(conn: Conn, user: Annotated[User, Depends(require("admin", "operator", "subdistrict"))]
           ) -> dict[str, Any]:
    """``version``, the YAML ``document`` and its parsed ``items`` and ``units``."""
    return _current(conn)


@router.put("/responsibility", summary="Replace the responsibility list (a new version)")
def replace(conn: Conn, user: Annotated[User, Depends(require("admin"))],
            body: Annotated[dict[str, Any], Body(description='{"document": "<YAML text>"} or the document itself')]
            ) -> dict[str, Any]:
    """Validated by ``parse_list``; 422 naming the lines of every problem."""
    resp = dependency("dispatch.responsibility")
    source: Any = body["document"] if isinstance(body.get("document"), str) else body
    try:
        parsed = resp.parse_list(source)
        version = resp.import_list(conn, parsed, actor=user.username)
    except (ValueError, LookupError, TypeError) as exc:
        raise ApiError(422, "invalid_list", str(exc), {"reason": type(exc).__name__}) from exc
    audit.record(conn, user, "responsibility.replace", "responsibility_list", str(version),
                 detail={"items": len(parsed.items), "units": len(parsed.units)})
    return _current(conn)


@router.get("/units", summary="Responsible units (maintenance companies, utilities, sub-district offices)")
def units(conn: Conn, user: Annotated[User, Depends(require("admin", "operator", "subdistrict"))]) -> Any:
    mod = dependency("dispatch.units")
    return [plain(u) for u in mod.list_units(conn) if user.role == "admin" or not u.site_ids
            or set(u.site_ids) & set(user.site_ids)]
