"""The web application factory: JSON API under ``/api/v1``, live events, control room, crew app, public board."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from dashboard import database, errors, logs
from dashboard.events import Broadcaster, Listener
from dashboard.limits import Limits, RequestLimits
from dashboard.metrics import Metrics, MetricsMiddleware, gateway_counters_collector, storage_maintenance_collector
from dashboard.routers import (
    alarms,
    audit,
    auth,
    complaints,
    crew,
    docs,
    estate,
    events,
    fund,
    gateway_ops,
    health,
    kpi,
    notifications,
    owners,
    preventive,
    public,
    responsibility,
    services,
    silences,
    supervision,
    users,
    work_orders,
)
from dashboard.security import LOGIN_SLOTS
from dashboard.ui import admin as admin_pages
from dashboard.ui import board as board_pages
from dashboard.ui import console as console_pages
from dashboard.ui import crew as crew_pages
from dashboard.ui import estate as estate_pages
from dashboard.ui import fund as fund_pages
from dashboard.ui import owners as owner_pages
from dashboard.ui import pages
from dashboard.ui import services as service_pages
from dashboard.ui import supervision as supervision_pages
from dashboard.ui import work_orders as work_order_pages
from dashboard.ui.rendering import LoginRequired

HERE = Path(__file__).parent
access_log = logging.getLogger("propwatch.web.access")

TAGS = [
    {"name": "auth", "description": "Bearer tokens (OAuth2 password form) and the signed-in user"},
    {"name": "alarms", "description": "Alarm console: list, acknowledge, assign, clear, silence"},
    {"name": "work-orders", "description": "Work orders: list, transitions, crew acceptance, notes and photos"},
    {"name": "events", "description": "Server-sent events for live alarms and work orders"},
    {"name": "estate", "description": "Sites, buildings, devices and their history"},
    {"name": "fund", "description": "Maintenance fund draws and approvals"},
    {"name": "public", "description": "The public information board (no sign-in)"},
    {"name": "ops", "description": "Health, readiness and metrics"},
]


ERROR_SCHEMA = {
    "title": "ErrorBody", "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}},
}


def _openapi_with_security(app: FastAPI) -> dict:
    """The generated schema plus the OAuth2 password (bearer) scheme, so Swagger UI can authorise."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, description=app.description,
                         routes=app.routes, tags=app.openapi_tags)
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "oauth2", "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}}}
    schemas = schema["components"].setdefault("schemas", {})
    schemas.pop("ValidationError", None)
    schemas["HTTPValidationError"] = ERROR_SCHEMA  # every error, 422 included, has the shared body
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
    for path, operations in schema.get("paths", {}).items():
        protected = path.startswith("/api/v1/") and not path.startswith(("/api/v1/public/", "/api/v1/auth/token"))
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if protected:
                operation["security"] = [{"bearer": []}]
                responses.setdefault("401", {"description": "not signed in", **error_ref})
                responses.setdefault("403", {"description": "role or scope does not allow this", **error_ref})
    app.openapi_schema = schema
    return schema


def create_app(*, database_url: str, secret_key: str | None = None, uploads_dir: Path | None = None,
               limits: Limits | None = None, statement_timeout_s: float = database.DEFAULT_STATEMENT_TIMEOUT_S,
               log_client_address: bool = False) -> FastAPI:
    """Build the app. The lifespan opens the connection pool and the LISTEN thread feeding the SSE stream.

    ``limits`` bounds request bodies (``dashboard.limits``); ``statement_timeout_s`` bounds each query of a
    request; ``log_client_address`` adds the caller's address to the access log (off: no personal data).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncio.to_thread(database.open_pool, database_url,
                                                 statement_timeout_s=statement_timeout_s)
        app.state.broadcaster = Broadcaster(asyncio.get_running_loop())
        app.state.metrics.gauges["propwatch_sse_subscribers"] = lambda: app.state.broadcaster.subscriber_count
        app.state.metrics.collectors.append(storage_maintenance_collector(app.state.pool))
        app.state.metrics.collectors.append(gateway_counters_collector(app.state.pool))
        app.state.listener = Listener(database_url, app.state.broadcaster)
        app.state.listener.start()
        try:
            yield
        finally:
            app.state.shutting_down = True
            await asyncio.to_thread(app.state.listener.stop)
            await asyncio.to_thread(app.state.pool.close)

    logs.configure()
    app = FastAPI(
        title="propwatch API",
        version="1.0.0",
        summary="IoT monitoring and dispatch for residential estates",
        description="JSON API of propwatch. See docs/api.md. Errors are `{\"error\": {code, message, details}}`.",
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.database_url = database_url
    app.state.secret_key = secret_key or secrets.token_urlsafe(32)
    app.state.uploads_dir = Path(uploads_dir) if uploads_dir else Path(".data/uploads")
    app.state.metrics = Metrics()
    app.state.shutting_down = False
    app.state.login_slots = threading.BoundedSemaphore(LOGIN_SLOTS)
    errors.install(app)
    app.add_middleware(RequestLimits, limits=limits or Limits())
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, log=access_log.info,
                       log_client_address=log_client_address)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (health, auth, alarms, work_orders, events, estate, gateway_ops, fund, kpi, responsibility, users,
                   audit, public, docs, crew, complaints, preventive, silences, notifications, owners, services,
                   supervision):
        app.include_router(module.router)
    for page_module in (pages, console_pages, estate_pages, work_order_pages, crew_pages, fund_pages, owner_pages,
                        service_pages, supervision_pages, admin_pages, board_pages):
        app.include_router(page_module.router)
    errors.use_html_pages(app, pages.error_page)
    app.openapi = lambda: _openapi_with_security(app)  # type: ignore[method-assign]

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _: Exception) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    return app
