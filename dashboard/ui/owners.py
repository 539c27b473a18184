"""The owners' and committee's pages: votes and ballots, reports and their follow-up."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
