"""Limits before work: what a request may send is decided from its headers, before anything reads its body.

``RequestLimits`` is an ASGI middleware that sits outside the application, so a refusal costs no database
connection, no password check and no parsing:

* an API request to a protected endpoint that carries a body but no credential at all (no ``Authorization``
  header, no session cookie) is answered 401 at once, its body never read;
* a body whose media type the endpoint does not take is answered 415;
* a body larger than its endpoint's class allows is answered 413: at once when ``Content-Length`` says so,
  otherwise as soon as the bytes streamed in pass the limit. Nothing past the limit is ever buffered.

The class of an endpoint comes from its parameters (``BodyKind``): an ``UploadFile``/``File`` parameter makes an
upload, ``Form`` parameters a form, any other body JSON. A new endpoint is classified the day it is added.

The middleware also names the route a request matched (``scope["route"]``, read by the access log and metrics)
when the router does not: for the requests it refuses itself, and for routes that are not FastAPI endpoints
(``/openapi.json``, the static files).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.errors import error_body
from dashboard.security import SESSION_COOKIE, is_protected_api_path

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
UPLOAD_ENVELOPE_BYTES = 64 * 1024
"""Room for the multipart boundaries, part headers and small fields around an upload's file."""


class BodyKind(enum.Enum):
    """What an endpoint reads from a request body."""

    NONE = "none"
    JSON = "json"
    FORM = "form"
    UPLOAD = "upload"


MEDIA_TYPES: dict[BodyKind, frozenset[str]] = {
    BodyKind.JSON: frozenset({"application/json"}),
    BodyKind.FORM: frozenset({"application/x-www-form-urlencoded", "multipart/form-data"}),
    BodyKind.UPLOAD: frozenset({"multipart/form-data"}),
}


@dataclass(frozen=True)
class Limits:
    """The largest body each kind of endpoint takes, in bytes."""

    body: int = DEFAULT_MAX_BODY_BYTES
    upload: int = 8 * 1024 * 1024 + UPLOAD_ENVELOPE_BYTES

    def for_kind(self, kind: BodyKind) -> int:
        """The limit of an endpoint of ``kind``; an endpoint that reads no body gets the JSON limit."""
        return self.upload if kind is BodyKind.UPLOAD else self.body


def body_kind(route: BaseRoute) -> BodyKind:
    """What ``route`` reads from the body, judged by its parameters (those of its dependencies included)."""
    if not isinstance(route, APIRoute) or route.body_field is None:
        return BodyKind.NONE
    infos = [field.field_info for field in _body_params(route)]
    if any(isinstance(info, params.File) for info in infos):
        return BodyKind.UPLOAD
    if any(isinstance(info, params.Form) for info in infos):
        return BodyKind.FORM
    return BodyKind.JSON


def _body_params(route: APIRoute) -> Iterable:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        yield from dependant.body_params
        pending.extend(dependant.dependencies)


def media_type(headers: Headers) -> str:
    """The request's media type, lower case, without parameters; ``+json`` types count as JSON."""
    value = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if value.startswith("application/") and value.endswith("+json"):
        return "application/json"
    return value


class RequestLimits:
    """ASGI middleware enforcing credentials-before-body, media types and body sizes (see the module doc)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self._table: list[Endpoint] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _content_length(headers)
        if declared == 0 or (declared is None and "chunked" not in headers.get("transfer-encoding", "").lower()):
            try:
                await self.app(scope, receive, send)
            finally:
                if "route" not in scope:
                    self._name_route(scope, self._endpoint(scope))
            return
        endpoint = self._endpoint(scope)
        kind = endpoint.kind if endpoint is not None else BodyKind.NONE
        refusal = self._refusal(scope, headers, kind, declared)
        if refusal is not None:
            self._name_route(scope, endpoint)
            await refusal.send(send)
            return
        try:
            await self._stream(scope, receive, send, self.limits.for_kind(kind))
        finally:
            if "route" not in scope:
                self._name_route(scope, endpoint)

    def _refusal(self, scope: Scope, headers: Headers, kind: BodyKind, declared: int | None) -> Refusal | None:
        if is_protected_api_path(scope["path"]) and not _presents_credentials(headers):
            return Refusal(401, "unauthenticated", "sign in or send a bearer token",
                           headers={"WWW-Authenticate": "Bearer"})
        accepted = MEDIA_TYPES.get(kind)
        if accepted is not None and media_type(headers) not in accepted:
            return Refusal(415, "unsupported_media_type", f"this endpoint takes {' or '.join(sorted(accepted))}",
                           details={"accepted": sorted(accepted)})
        limit = self.limits.for_kind(kind)
        if declared is not None and declared > limit:
            return too_large(limit)
        return None

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Once the limit is passed the answer is ours, whatever the application made of the interruption.
            if exceeded:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # Whatever the interruption became inside the application (FastAPI turns it into a 400), it was ours.
            if not exceeded:
                raise
        if exceeded and not started:
            await too_large(limit).send(send)

    def _endpoint(self, scope: Scope) -> Endpoint | None:
        if self._table is None:  # the routes are final once the first request arrives
            self._table = route_table(getattr(scope.get("app"), "routes", ()))
        for endpoint in self._table:
            takes_method = endpoint.methods is None or scope["method"] in endpoint.methods
            if takes_method and endpoint.pattern.match(scope["path"]):
                return endpoint
        return None

    @staticmethod
    def _name_route(scope: Scope, endpoint: Endpoint | None) -> None:
        if endpoint is not None:
            scope["route"] = endpoint.route


@dataclass(frozen=True)
class Endpoint:
    """One route as the middleware matches it: ``methods`` is ``None`` for a mount, which takes any method."""

    pattern: re.Pattern[str]
    methods: frozenset[str] | None
    kind: BodyKind
    route: BaseRoute


def route_table(routes: Iterable[BaseRoute]) -> list[Endpoint]:
    """Every route and mount with its path pattern, methods and body kind, included routers' too."""
    table = []
    for context in iter_route_contexts(list(routes)):
        if not context.path:
            continue
        route = context.original_route
        if context.methods:
            pattern, _, _ = compile_path(context.path)
            table.append(Endpoint(pattern, frozenset(context.methods), body_kind(route), route))
        else:
            pattern, _, _ = compile_path(context.path.rstrip("/") + "/{path:path}")
            table.append(Endpoint(pattern, None, BodyKind.NONE, route))
    return table


class BodyTooLarge(Exception):
    """Raised into the application when the body it is reading passes its limit."""


@dataclass(frozen=True)
class Refusal:
    """An answer given without running the application."""

    status: int
    code: str
    message: str
    details: object = None
    headers: dict[str, str] | None = None

    async def send(self, send: Send) -> None:
        """Send this answer as the shared error body."""
        body = json.dumps(error_body(self.code, self.message, self.details)).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in (self.headers or {}).items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def too_large(limit: int) -> Refusal:
    """The 413 naming the limit."""
    return Refusal(413, "too_large", f"the request body is larger than this endpoint takes ({limit} bytes)",
                   details={"limit": limit})


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return max(int(value), 0)
    except ValueError:
        return None


def _presents_credentials(headers: Headers) -> bool:
    if headers.get("authorization"):
        return True
    return any(part.strip().startswith(f"{SESSION_COOKIE}=") for part in headers.get("cookie", "").split(";"))
