"""API documentation served offline: Swagger UI 5 from the ``swagger-ui-py`` wheel's static files, no CDN.

(FastAPI's own ``/docs`` loads Swagger UI from a CDN; ``swagger-ui-bundle`` ships Swagger UI 4, which cannot read
OpenAPI 3.1.)
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from dashboard.errors import ApiError

router = APIRouter(include_in_schema=False)
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
          "favicon-32x32.png": "image/png"}


def _asset_dir() -> Traversable | None:
    try:
        return resources.files("swagger_ui") / "static"
    except ModuleNotFoundError:
        return None


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI with every asset from this server."""
    return get_swagger_ui_html(openapi_url=request.app.openapi_url or "/openapi.json", title="propwatch API",
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon-32x32.png")


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    folder = _asset_dir()
    if folder is None or name not in ASSETS or not (folder / name).is_file():
        raise ApiError(404, "not_found", "no such asset")
    return Response((folder / name).read_bytes(), media_type=ASSETS[name],
                    headers={"Cache-Control": "public, max-age=86400"})
