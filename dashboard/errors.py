"""One error body for every failure: ``{"error": {"code", "message", "details"}}``.

Domain packages raise their own errors, each in one of four families (``<package>.errors``); the status is chosen
by class, with one handler per family and package that starlette finds along the exception's MRO, so a
package's specific error (``dispatch.fund.errors.WrongApprover``) answers like its family (``Forbidden``, 403).
``ApiError`` is for what the web layer decides itself: authentication, the shape of a request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboard import database
from dispatch import errors as dispatch_errors
from ingest import errors as ingest_errors
from rules import errors as rules_errors
from services import errors as services_errors
from supervision import errors as supervision_errors

log = logging.getLogger(__name__)
_KEY_DETAIL = re.compile(r"Key \(([^)]*)\)=")

_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid", 429: "rate_limited", 503: "unavailable"}


class ApiError(Exception):
    """An expected failure with an HTTP status, a stable machine code and a human message."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def not_found(kind: str, ident: object) -> ApiError:
    """A 404 naming what was not found."""
    return ApiError(404, "not_found", f"{kind} {ident} not found")


def forbidden(message: str = "your role may not do this") -> ApiError:
    """A 403."""
    return ApiError(403, "forbidden", message)


@dataclass(frozen=True)
class Family:
    """One kind of refusal, the same in every package: its HTTP status, its code and each package's class."""

    status: int
    code: str
    classes: tuple[type[Exception], ...]


PACKAGES = (ingest_errors, rules_errors, dispatch_errors, services_errors, supervision_errors)
FAMILIES = (
    Family(404, "not_found", tuple(p.NotFound for p in PACKAGES)),
    Family(409, "conflict", tuple(p.Conflict for p in PACKAGES)),
    Family(403, "forbidden", tuple(p.Forbidden for p in PACKAGES)),
    Family(422, "invalid", tuple(p.Invalid for p in PACKAGES)),
)


# A browser's page request that fails gets a page (dashboard/templates/error.html), not JSON: the renderer is
# set by ``use_html_pages``; the API (/api/) always answers JSON.
HtmlErrorPage = Callable[[Request, int, str], Response]
HTML_STATUSES = frozenset({403, 404, 503})


def use_html_pages(app: FastAPI, page: HtmlErrorPage) -> None:
    """Answer a failed page request from a browser (403, 404, 503) with ``page(request, status, message)``."""
    app.state.html_error_page = page


def respond(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """``body`` as JSON, or the error page for a browser asking for a page outside /api/."""
    page = getattr(request.app.state, "html_error_page", None)
    if page is not None and status in HTML_STATUSES and _wants_html(request):
        response = page(request, status, body["error"]["message"])
        response.headers.update(headers or {})
        return response
    return JSONResponse(body, status, headers=headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The shared error body."""
    return {"error": {"code": code, "message": message, "details": details}}


def _json_safe(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def domain_handler(family: Family) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The handler answering a family's errors: its status and code, the error's message and class name."""

    async def handle(request: Request, exc: Exception) -> Response:
        reason = type(exc).__name__
        details: dict[str, Any] = {"reason": reason}
        if getattr(exc, "field", None):
            details["field"] = exc.field  # type: ignore[attr-defined]
        return respond(request, family.status, error_body(family.code, str(exc) or reason, details))

    return handle


def referenced_field(exc: psycopg.errors.IntegrityError) -> str | None:
    """The column(s) a key violation is about, from the server's detail (``Key (site_id)=(…) …``); never the
    value, which may be personal."""
    match = _KEY_DETAIL.match(exc.diag.message_detail or "")
    return match[1] if match else exc.diag.column_name


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the shared error body."""
    for family in FAMILIES:
        handler = domain_handler(family)
        for cls in family.classes:
            app.add_exception_handler(cls, handler)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return respond(request, exc.status, error_body(exc.code, exc.message, exc.details), exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot parse (broken multipart, JSON that is not UTF-8): the same
            # 422 `invalid` as a body that parses but does not validate
            details = [{"loc": ["body"], "msg": str(exc.detail), "type": "unparsable"}]
            return JSONResponse(error_body("invalid", "request is not valid", details), 422)
        code = _CODES.get(exc.status_code, "error")
        return respond(request, exc.status_code, error_body(code, str(exc.detail)), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if request.method == "GET" and _wants_html(request):
            # A page address that does not parse (/alarms/abc) names no page: the friendly 404.
            return respond(request, 404, error_body("not_found", "page not found"))
        return JSONResponse(error_body("invalid", "request is not valid", _json_safe(list(exc.errors()))), 422)

    @app.exception_handler(psycopg.DataError)
    async def _bad_value(_: Request, exc: psycopg.DataError) -> JSONResponse:
        # e.g. a NUL character or an out-of-range number that validation let through
        return JSONResponse(error_body("invalid", "a value cannot be stored", {"reason": type(exc).__name__}), 422)

    @app.exception_handler(psycopg.errors.ForeignKeyViolation)
    async def _unknown_reference(_: Request, exc: psycopg.errors.ForeignKeyViolation) -> JSONResponse:
        # A reference the request made to something that does not exist, caught by the schema rather than a check.
        field = referenced_field(exc)
        return JSONResponse(error_body("invalid", f"{field or 'a reference'} names something that does not exist",
                                       {"reason": "ForeignKeyViolation", "field": field}), 422)

    @app.exception_handler(psycopg.errors.UniqueViolation)
    async def _duplicate(_: Request, exc: psycopg.errors.UniqueViolation) -> JSONResponse:
        field = referenced_field(exc)
        return JSONResponse(error_body("conflict", f"{field or 'this record'} already exists",
                                       {"reason": "UniqueViolation", "field": field}), 409)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)
    async def _database_unavailable(request: Request, exc: psycopg.Error) -> Response:
        # Connection refused or lost, pool exhausted, statement timeout: the database, not the request, failed.
        log.warning("database unavailable: %s", type(exc).__name__)
        return respond(request, 503, error_body("unavailable", "the database is unavailable; try again shortly",
                                                {"reason": type(exc).__name__}),
                       {"Retry-After": str(database.RETRY_AFTER_S)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal server error"), 500)
