"""The audit trail, read-only, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from dashboard import audit, roles
from dashboard.routers.common import Page, Pagination, pagination
from dashboard.security import Conn, require
from dashboard.users import User

router = APIRouter(prefix="/api/v1/audit", tags=["auth"])


@router.get("", response_model=Page[audit.AuditEntry], summary="Audit entries, newest first")
def entries(conn: Conn, _: Annotated[User, Depends(require(roles.ADMINS))],
            page: Annotated[Pagination, Depends(pagination)],
            target_type: Annotated[str | None, Query(max_length=64)] = None,
            target_id: Annotated[str | None, Query(max_length=128)] = None,
            actor: Annotated[str | None, Query(max_length=64)] = None,
            action: Annotated[str | None, Query(max_length=64, description="an action or its family: `user`")] = None,
            since: Annotated[AwareDatetime | None, Query(description="from this time (inclusive)")] = None,
            until: Annotated[AwareDatetime | None, Query(description="before this time")] = None,
            ) -> Page[audit.AuditEntry]:
    found, total = audit.list_entries(conn, target_type=target_type, target_id=target_id, actor=actor,
                                      action=action, since=since, until=until, limit=page.limit, offset=page.offset)
    return Page[audit.AuditEntry](items=found, total=total, limit=page.limit, offset=page.offset)
