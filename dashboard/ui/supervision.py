"""The sub-district's supervision pages: companies and projects, inspections, credit, red and black lists."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
