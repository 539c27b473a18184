"""Browser libraries installed from npm (package.json, package-lock.json; ``make`` runs ``npm ci``), served by
the app itself from ``node_modules``: exactly the files the pages load, never a CDN, never committed."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from dashboard.errors import ApiError

log = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
ECHARTS = NODE_MODULES / "echarts" / "dist" / "echarts.min.js"
ECHARTS_URL = "/vendor/echarts.min.js"
# The file changes only with the lockfile, so browsers may keep it for a day without asking again.
CACHE = "public, max-age=86400"

router = APIRouter(include_in_schema=False)

if not ECHARTS.is_file():
    log.error("%s is missing: device charts will not draw; run `make` (npm ci) in the repository", ECHARTS)


@router.get(ECHARTS_URL)
def echarts() -> FileResponse:
    """Apache ECharts' minified bundle; 503 naming the fix when npm has not installed it."""
    if not ECHARTS.is_file():
        raise ApiError(503, "unavailable", f"{ECHARTS.relative_to(NODE_MODULES.parent)} is missing: run make")
    return FileResponse(ECHARTS, media_type="text/javascript", headers={"Cache-Control": CACHE})
