"""Routes of the ``services`` capability (issue 20); filled in by its owner."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["services"])
